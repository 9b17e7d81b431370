using CoLaR.Data;
using CoLaR.Native;
using CoLaR.Text;
using CoLaR.Training;
using TorchSharp;

namespace CoLaR.Runtime.Tests.Method;

/// <summary>Shared pieces: libtorch loaded, the embedded layout, small synthetic problems.</summary>
public static class MethodFixture
{
    static MethodFixture() => TorchNative.EnsureLoaded();

    public static PromptLayout Layout { get; } = new(EmbeddedTokenizer.Instance);

    /// <summary>Two-step word problems with small numbers.</summary>
    public static IReadOnlyList<EncodedSample> Problems(int count, int seed = 5) =>
        SyntheticData.WordProblems(count, new WordProblemOptions { MinSteps = 1, MaxSteps = 2, MaxOperand = 9, MaxValue = 30, MaxFactor = 2 }, seed)
            .Select(Layout.Encode).ToList();

    public static SftContext Context(int compression, int seed = 0) => new()
    {
        Layout = Layout, Device = torch.CPU, Compression = compression, Random = new Random(seed),
        Generator = new torch.Generator((ulong)seed + 1),
    };

    /// <summary>Trains <paramref name="model"/> briefly so that it stops and answers (deterministic).</summary>
    public static void Train(CoLaR.Modules.ReasonerModule model, int steps, int seed = 1)
    {
        torch.manual_seed(seed);
        var trainer = new SftTrainer(model, Problems(512, seed), Layout,
            new SftOptions { Steps = steps, BatchSize = 32, LearningRate = 3e-3, WarmupSteps = 10, Seed = seed, CheckpointEvery = int.MaxValue }, torch.CPU);
        trainer.Run();
        model.eval();
    }
}
