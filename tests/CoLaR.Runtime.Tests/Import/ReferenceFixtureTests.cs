using CoLaR.Checkpoints;
using CoLaR.Import;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Runtime.Tests.Checkpoints;
using CoLaR.Runtime.Tests.Data;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Import;

/// <summary>
/// Imported models against transformers itself: tests/fixtures/hf-reference/&lt;family&gt;/ holds a tiny random model
/// saved by transformers and the logits it computed (tests/fixtures/hf-reference/make_reference.py). The fixtures
/// are not committed yet — the machines that wrote the importer had no Python torch — so until they are, this test
/// only reports that it had nothing to compare.
/// </summary>
public class ReferenceFixtureTests(ITestOutputHelper output)
{
    static string? FixtureRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CoLaR.sln")))
                return Path.Combine(dir.FullName, "tests", "fixtures", "hf-reference");
        return null;
    }

    [Theory]
    [InlineData("llama", "ImpLlamaCoT")]
    [InlineData("qwen2", "ImpQwen2CoT")]
    [InlineData("qwen3", "ImpQwen3CoT")]
    [InlineData("gpt2", "ImpGpt2CoT")]
    public void Imported_transformers_model_matches_its_reference_logits_when_the_fixture_exists(string family, string model)
    {
        TestUtil.Torch();
        var fixture = FixtureRoot() is { } root ? Path.Combine(root, family) : null;
        if (fixture is null || !File.Exists(Path.Combine(fixture, "reference.safetensors")))
        {
            output.WriteLine($"no transformers fixture for {family}: run tests/fixtures/hf-reference/make_reference.py to create it");
            return;
        }
        using var dir = new DataFiles.TempDirectory();
        var imported = Path.Combine(dir.Path, "backbone.safetensors");
        HfImporter.Import(new ImportRequest { Source = fixture, Output = imported });
        var reasoner = ModelRegistry.Get(model).Create();
        Initialization.FromCheckpoint(reasoner, imported);

        using var reference = SafeTensors.Load(Path.Combine(fixture, "reference.safetensors"));
        using var noGrad = torch.no_grad();
        var ids = reference["input_ids"];
        var mask = reference["attention_mask"];
        var backbone = reasoner.Backbone;
        var logits = backbone.Logits(backbone.Forward(backbone.Embed(ids), mask, AttentionOps.PositionIds(mask)));
        var real = mask.to(ScalarType.Bool).unsqueeze(-1);                                     // compare unpadded positions
        double max = ((logits - reference["logits"]).abs() * real).max().ToDouble();
        output.WriteLine($"{family}: max |logit difference| = {max:G3}");
        Assert.True(max <= 1e-4, $"{family}: imported logits differ from transformers' by {max:G3}");
    }
}
