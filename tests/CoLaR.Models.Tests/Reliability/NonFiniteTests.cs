using System.Text.Json.Nodes;
using CoLaR.Checkpoints;
using CoLaR.Data;
using CoLaR.Modules;
using CoLaR.Native;
using CoLaR.Runs;
using CoLaR.Specs;
using CoLaR.Training;
using TorchSharp;

namespace CoLaR.Models.Tests.Reliability;

[Llama(Vocab = 512, Hidden = 32, Layers = 1, Heads = 2, KvHeads = 1, Intermediate = 64, MaxPositions = 256, TieEmbeddings = true)]
public partial class GuardLlama;

/// <summary>
/// Chain of thought whose loss is poisoned by the data, through the documented extension point: a batch holding a
/// question that contains <see cref="NaNLoss"/> has a NaN loss; one holding <see cref="InfiniteGradient"/> has a finite
/// loss and an infinite gradient. Data order is a pure function of (seed, step), so the poisoned step is known.
/// </summary>
[ChainOfThought(typeof(GuardLlama))]
public partial class PoisonedCoT
{
    public const string NaNLoss = "POISON-LOSS", InfiniteGradient = "POISON-GRAD";

    public override SftLoss ComputeSftLoss(SftBatch batch, SftContext context)
    {
        var loss = Objectives.ChainOfThought(this, batch, context);
        if (batch.Samples.Any(s => s.Source.Question.Contains(NaNLoss)))
            return new SftLoss(loss.Total * double.NaN, loss.Terms.ToDictionary(t => t.Key, _ => double.NaN));
        if (batch.Samples.Any(s => s.Source.Question.Contains(InfiniteGradient)))
        {
            // x - x is exactly 0 with gradient 1, and d/dx sqrt(x) at 0 is +inf: the value stays finite, the gradient does not.
            var table = Backbone.EmbeddingTable;
            var zero = table.sum() - table.sum().detach();
            return new SftLoss(loss.Total + zero.sqrt(), loss.Terms);
        }
        return loss;
    }
}

/// <summary>
/// Issue 8.4: a non-finite loss or gradient stops the run naming the step and the loss terms and keeps the last good
/// checkpoint; skip_non_finite=true skips such batches and counts them. The real SftRun and SftTrainer loop, in process.
/// </summary>
[Collection(InProcessTraining.Name)]
public class NonFiniteTests
{
    const int Samples = 24, BatchSize = 4, Seed = 3;

    static SftOptions Options(int steps = 12, bool skip = false) => new()
    {
        Steps = steps, BatchSize = BatchSize, Seed = Seed, CheckpointEvery = 2, LogEvery = 1, WarmupSteps = 2, SkipNonFinite = skip,
    };

    /// <summary>Data whose sample at the given index is poisoned; returns the 1-based steps of the first two epochs that train on it.</summary>
    static (List<Sample> Data, int[] PoisonedSteps) Data(string marker, int firstPoisonedStep = 5)
    {
        var data = SyntheticData.WordProblems(Samples, new WordProblemOptions { MinSteps = 2, MaxSteps = 2, MaxOperand = 9, MaxValue = 50 }, seed: 4).ToList();
        var schedule = new DataSchedule(Samples, BatchSize, Seed);
        int index = schedule.Batch(firstPoisonedStep - 1)[0];
        data[index] = data[index] with { Question = data[index].Question + " " + marker };
        var steps = Enumerable.Range(0, 2 * schedule.BatchesPerEpoch).Where(s => schedule.Batch(s).Contains(index)).Select(s => s + 1).ToArray();
        return (data, steps);
    }

    static SftRun Run(List<Sample> data, string outDir, SftOptions options) => new()
    {
        Model = ModelRegistry.Get(nameof(PoisonedCoT)), Data = data, OutputDirectory = outDir, Sft = options,
        Console = TextWriter.Null, ProgressMode = ProgressMode.Silent, // default RunOptions: the test process keeps its thread count
    };

    [Theory]
    [InlineData(PoisonedCoT.NaNLoss, "loss is not finite (ce=NaN, loss=NaN")]
    [InlineData(PoisonedCoT.InfiniteGradient, "gradient norm is")]
    public void NonFiniteStep_StopsTheRun_NamingStepAndTerms_AndKeepsTheLastGoodCheckpoint(string marker, string what)
    {
        TorchNative.EnsureLoaded();
        var outDir = Colar.TempDirectory("nan-stop");
        var (data, poisoned) = Data(marker);
        Assert.Equal(5, poisoned[0]);

        var e = Assert.Throws<TrainingStoppedException>(() => Run(data, outDir, Options()).Execute());
        Assert.StartsWith("step 5: ", e.Message);
        Assert.Contains(what, e.Message);
        Assert.Contains("the last checkpoint is kept", e.Message);
        Assert.Contains("skip_non_finite=true", e.Message);
        if (marker == PoisonedCoT.InfiniteGradient) Assert.Matches(@"\(ce=\d", e.Message); // the finite terms are named too

        // The last good checkpoint (step 4) and its training state load, verified, with finite weights; no final checkpoint.
        Assert.False(File.Exists(Path.Combine(outDir, "checkpoints", "final.safetensors")));
        var model = ModelRegistry.Get(nameof(PoisonedCoT)).Create();
        var metadata = ModelCheckpoint.Load(Path.Combine(outDir, "checkpoints", "last.safetensors"), model);
        Assert.Equal("4", metadata["colar.step"]);
        Assert.All(model.parameters(), p => Assert.True(torch.isfinite(p).all().ToBoolean()));
        var restored = ModelRegistry.Get(nameof(PoisonedCoT)).Create();
        using (var optimizer = torch.optim.AdamW(restored.parameters()))
        {
            var state = TrainingState.TryLoad(Path.Combine(outDir, "state"), restored, optimizer);
            Assert.Equal(4, JsonNode.Parse(state!.TrainerJson)!["step"]!.GetValue<int>());
        }
        var log = File.ReadAllText(Path.Combine(outDir, "run.log"));
        Assert.Contains("step 5: ", log);
        Assert.Contains("   at ", log); // the full trace is in the run's log
    }

    [Fact]
    public void SkipNonFinite_SkipsAndCountsTheBatches_AcrossAResume()
    {
        TorchNative.EnsureLoaded();
        var outDir = Colar.TempDirectory("nan-skip");
        var (data, poisoned) = Data(PoisonedCoT.NaNLoss);
        Assert.Equal(2, poisoned.Length); // once per epoch: steps 5 and one of 7..12

        // Stop after the first epoch, then resume to the end: the count carries over the resume.
        Run(data, outDir, Options(steps: 6, skip: true)).Execute();
        Assert.Equal(1, SkippedInState(outDir));
        var final = Run(data, outDir, Options(steps: 12, skip: true)).Execute();
        Assert.Equal(2, SkippedInState(outDir));

        var metrics = File.ReadAllLines(Path.Combine(outDir, RunLog.MetricsFileName)).Select(l => JsonNode.Parse(l)!).ToList();
        var skipped = metrics.Where(m => m["skipped"] is not null).ToList();
        Assert.Equal(poisoned, skipped.Select(m => m["step"]!.GetValue<int>()));
        Assert.Equal(new[] { 1.0, 2.0 }, skipped.Select(m => m["skipped"]!.GetValue<double>()));
        var model = ModelRegistry.Get(nameof(PoisonedCoT)).Create();
        ModelCheckpoint.Load(final, model);
        Assert.All(model.parameters(), p => Assert.True(torch.isfinite(p).all().ToBoolean()));
    }

    /// <summary>The same guard through the command line: a learning rate of 1e30 blows the weights up after step 1.</summary>
    [Fact]
    public void NonFiniteStep_FromTheCommandLine_ExitsWithOneLineAndKeepsTheCheckpoint()
    {
        var dir = Colar.TempDirectory("nan-cli");
        var data = Harness.WriteWordProblems(dir, 40);
        var outDir = Path.Combine(dir, "run");
        var r = Colar.Run("train", "--model", "CoT", "--data", data, "--out", outDir, "--steps", "6",
            "batch_size=4", "checkpoint_every=1", "threads=2", "learning_rate=1e30", "warmup_steps=0");
        var error = Harness.AssertCleanFailure(r, exitCode: 1);
        var m = System.Text.RegularExpressions.Regex.Match(error, @"^error: step (\d+): (loss is not finite|gradient norm is \S+) \(ce=");
        Assert.True(m.Success, error);
        int stopped = int.Parse(m.Groups[1].Value);
        Assert.Contains("the last checkpoint is kept", error);
        Harness.AssertTraceLogged(outDir, $"step {stopped}: ");

        TorchNative.EnsureLoaded();
        Assert.False(File.Exists(Path.Combine(outDir, "checkpoints", "final.safetensors")));
        using var last = Checkpoint.Load(Path.Combine(outDir, "checkpoints", "last.safetensors"));
        Assert.Equal((stopped - 1).ToString(), last.Metadata["colar.step"]);
    }

    static int SkippedInState(string outDir)
    {
        var model = ModelRegistry.Get(nameof(PoisonedCoT)).Create();
        using var optimizer = torch.optim.AdamW(model.parameters());
        var state = TrainingState.TryLoad(Path.Combine(outDir, "state"), model, optimizer, restoreRng: false)!;
        return JsonNode.Parse(state.TrainerJson)!["skipped"]!.GetValue<int>();
    }
}

/// <summary>Tests that train in this process share torch's global state (thread count, generator): they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InProcessTraining
{
    public const string Name = "in-process training";
}
