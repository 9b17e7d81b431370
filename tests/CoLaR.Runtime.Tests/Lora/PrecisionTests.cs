using CoLaR.Data;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Runtime.Tests.Checkpoints;
using CoLaR.Runtime.Tests.Data;
using CoLaR.Runtime.Tests.Import;
using CoLaR.Text;
using CoLaR.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Lora;

/// <summary>
/// precision = bf16 (the CUDA default) runs here on the CPU: a bfloat16 working copy computes, fp32 master weights
/// are what the optimizer updates and checkpoints hold, losses are fp32, and frozen weights never move.
/// </summary>
public class PrecisionTests
{
    public PrecisionTests() => TestUtil.Torch();

    static (PromptLayout Layout, List<EncodedSample> Data) Data(string directory)
    {
        TinyHfCheckpoint.WriteLlamaTokenizer(directory);
        Text.TinyHfFiles.Write(directory, "config.json", TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec));
        var layout = new PromptLayout(Tokenizers.For(Tokenizers.Checkpoint, directory));
        var samples = Enumerable.Range(0, 8).Select(i => new Sample($"{i} + {i + 1} = ?", [$"{i}+{i + 1}={2 * i + 1}"], $"{2 * i + 1}"));
        return (layout, samples.Select(layout.Encode).ToList());
    }

    [Theory]
    [InlineData(typeof(ImpLlamaCoLaRLora))]
    [InlineData(typeof(ImpLlamaCoT))]
    public void Bf16_training_keeps_fp32_masters_and_follows_the_fp32_run(Type spec)
    {
        using var dir = new DataFiles.TempDirectory();
        var (layout, data) = Data(dir.Path);
        var options = new SftOptions { Steps = 3, BatchSize = 4, LearningRate = 1e-3, WarmupSteps = 0, CheckpointEvery = 100, Seed = 3 };

        // Two identical models (heads included), one per precision.
        var models = new[] { (ReasonerModule)Activator.CreateInstance(spec)!, (ReasonerModule)Activator.CreateInstance(spec)! };
        TinyHfCheckpoint.Randomize(models[0].Backbone, 21);
        using (torch.no_grad())
            foreach (var ((_, from), (_, to)) in models[0].named_parameters().Zip(models[1].named_parameters())) to.copy_(from);

        var results = new List<(ReasonerModule Model, List<double> Losses)>();
        foreach (var (precision, model) in new[] { Precision.Fp32, Precision.Bf16 }.Zip(models))
        {
            var frozen = model.Backbone.CheckpointTensors().Select(t => t.Tensor.clone()).ToList();
            var trainer = new SftTrainer(model, data, layout, options, torch.CPU, precision);
            Assert.Equal(precision, trainer.Precision);
            var losses = new List<double>();
            trainer.StepCompleted = r => losses.Add(r.Terms["loss"]);
            trainer.Run();
            Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype)); // masters stay fp32
            if (model.Backbone.Lora is not null)
            {
                var now = model.Backbone.CheckpointTensors().Select(t => t.Tensor).ToList();
                for (int i = 0; i < frozen.Count; i++) TestUtil.AssertSameBits(frozen[i], now[i]);
            }
            results.Add((model, losses));
        }
        var (fp32, bf16) = (results[0].Losses, results[1].Losses);
        Assert.All(bf16, l => Assert.True(double.IsFinite(l)));
        // Same data, same draws: bf16 rounding moves the loss by well under a percent at these sizes.
        for (int i = 0; i < fp32.Count; i++) Assert.True(Math.Abs(fp32[i] - bf16[i]) <= 0.02 * Math.Abs(fp32[i]) + 1e-3, $"step {i + 1}: {fp32[i]} vs {bf16[i]}");
        // And the bf16 run trained: its weights moved like the fp32 run's.
        var a = results[0].Model.parameters().Where(p => p.requires_grad).Select(p => p.detach().flatten()).ToList();
        var b = results[1].Model.parameters().Where(p => p.requires_grad).Select(p => p.detach().flatten()).ToList();
        double diff = (torch.cat(a) - torch.cat(b)).abs().max().ToDouble();
        Assert.True(diff < 5e-3, $"bf16 and fp32 runs drifted apart by {diff}");
    }

    [Fact]
    public void Auto_precision_is_bf16_on_cuda_and_fp32_on_cpu()
    {
        Assert.Equal(Precision.Fp32, Precisions.Resolve(Precision.Auto, torch.CPU));
        Assert.Equal(Precision.Bf16, Precisions.Resolve(Precision.Auto, new Device(DeviceType.CUDA, 0)));
        Assert.Equal(Precision.Fp32, Precisions.Resolve(Precision.Fp32, new Device(DeviceType.CUDA, 0)));
        Assert.Equal(Precision.Bf16, Precisions.Resolve(Precision.Bf16, torch.CPU));
    }

    [Fact]
    public void A_model_opened_in_bf16_answers()
    {
        using var dir = new DataFiles.TempDirectory();
        var (layout, data) = Data(dir.Path);
        var model = new ImpLlamaCoLaRLora();
        TinyHfCheckpoint.Randomize(model.Backbone, 22);
        model.EnsureEmbedsStd();
        var checkpoint = Path.Combine(dir.Path, "model.safetensors");
        CoLaR.Checkpoints.ModelCheckpoint.Save(checkpoint, model);
        var loaded = LoadedModel.Open(checkpoint, torch.CPU, precision: Precision.Bf16);
        Assert.Equal(ScalarType.BFloat16, loaded.DType);
        Assert.All(loaded.Model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var generator = new Generator(1);
        var result = loaded.Model.Generate(new Inference.GenerationRequest(data.Take(3).ToList(), loaded.Layout, torch.CPU, 2, 1.0, Inference.AnswerDecoding.Greedy, generator));
        Assert.Equal(3, result.Answers.Count);
    }
}
