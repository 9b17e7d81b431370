using CoLaR.Inference;
using CoLaR.Modules;
using CoLaR.Specs;
using CoLaR.Training;
using TorchSharp;

namespace CoLaR.Runtime.Tests.Method;

// A latent-reasoning variant that ships nowhere: declared here, built by the generator with this test
// project, trained and run through the same trainer and inference as every shipped model. Mean merge
// (the MP ablation's option) and a deterministic head (the DL ablation's), at most 3× compression.

[LatentReasoner(typeof(MethodLlama), MaxCompression = 3, MaxLatentSteps = 24)]
[CompressionMerger(Merge.Mean)]
[LatentHead(Intermediate = 32, Kind = LatentHeadKind.Deterministic)]
public partial class MeanDeterministicCoLaR;

public class NewVariantTests
{
    static NewVariantTests() => _ = MethodFixture.Layout;

    [Fact]
    public void TheGeneratedSpec_CarriesTheDeclaredOptions()
    {
        using var model = new MeanDeterministicCoLaR();
        var spec = model.Specification;
        Assert.Equal(ReasoningMethod.CompressedLatent, spec.Method);
        Assert.Equal((1, 3), spec.CompressionRange);
        Assert.Equal(Merge.Mean, spec.Compression!.Merge);
        Assert.Equal(LatentHeadKind.Deterministic, spec.LatentHead!.Kind);
        Assert.Equal(24, spec.MaxLatentSteps);
    }

    [Fact]
    public void ItTrains_OnlyAtItsOwnCompressions_AndAnswersAtEach()
    {
        torch.manual_seed(3);
        using var model = new MeanDeterministicCoLaR();
        var trainer = new SftTrainer(model, MethodFixture.Problems(256, seed: 3), MethodFixture.Layout,
            new SftOptions { Steps = 40, BatchSize = 16, LearningRate = 3e-3, WarmupSteps = 5, Seed = 3, CheckpointEvery = int.MaxValue }, torch.CPU);
        var reports = new List<StepReport>();
        trainer.StepCompleted = reports.Add;
        trainer.Run();

        Assert.Equal(40, reports.Count);
        Assert.All(reports, r => Assert.InRange(r.Compression, 1, 3));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Terms["loss"]), $"step {r.Step}: loss {r.Terms["loss"]}"));
        double first = reports.Take(5).Average(r => r.Terms["loss"]), last = reports.TakeLast(5).Average(r => r.Terms["loss"]);
        Assert.True(last < 0.7 * first, $"loss did not fall: first five steps {first:F3}, last five {last:F3}");

        model.eval();
        var questions = MethodFixture.Problems(4, seed: 11);
        foreach (var c in new[] { 1, 3 })
        {
            var answers = model.Generate(new GenerationRequest(questions, MethodFixture.Layout, torch.CPU, c, LatentTemperature: 0)).Answers;
            Assert.Equal(4, answers.Count);
            Assert.All(answers, a => Assert.InRange(a.Steps, 0, 24)); // 40 steps teach the format, not the arithmetic
        }
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            model.Generate(new GenerationRequest(questions, MethodFixture.Layout, torch.CPU, Compression: 4)));
    }
}
