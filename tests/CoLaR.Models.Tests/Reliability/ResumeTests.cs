using CoLaR.Checkpoints;
using Xunit.Abstractions;

namespace CoLaR.Models.Tests.Reliability;

/// <summary>The uninterrupted runs the interrupted ones are compared with, trained once per model.</summary>
public sealed class TwinRuns : IDisposable
{
    readonly Dictionary<string, string> _finals = new();

    public string Directory { get; } = Colar.TempDirectory("resume");
    public string Data { get; }

    public TwinRuns() => Data = Harness.WriteWordProblems(Directory, 200, seed: 7);

    /// <summary>`colar train` arguments shared by every run of a model (same seed, same thread count).</summary>
    public string[] Args(string model, string outDir) =>
    [
        "train", "--model", model, "--data", Data, "--out", outDir, "--steps", model == "CoT" ? "24" : "12",
        "batch_size=8", "checkpoint_every=2", "warmup_steps=4", "seed=5", "threads=2", "log_every=1",
    ];

    /// <summary>The final checkpoint of an uninterrupted run of <paramref name="model"/>.</summary>
    public string Final(string model)
    {
        if (_finals.TryGetValue(model, out var final)) return final;
        var outDir = Path.Combine(Directory, "twin-" + model);
        var r = Colar.Run(Args(model, outDir));
        Assert.True(r.ExitCode == 0, r.All);
        return _finals[model] = Path.Combine(outDir, "checkpoints", "final.safetensors");
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Resume after a crash (issue 8.1): `colar train` killed with SIGKILL and rerun with the same --out ends with
/// the same weights, bit for bit, as a run never interrupted (CPU, same seed, same thread count).
/// </summary>
[Collection(ProcessHeavy.Name)]
public class ResumeTests(TwinRuns twins, ITestOutputHelper output) : IClassFixture<TwinRuns>
{
    [Theory]
    [InlineData("CoT", 8)]
    [InlineData("CoLaR", 4)]
    public void SigkillMidRun_ThenResume_GivesTheUninterruptedWeightsBitwise(string model, int killAfter)
    {
        var expected = twins.Final(model);
        var outDir = Path.Combine(twins.Directory, $"killed-{model}");
        var args = twins.Args(model, outDir);

        var (process, _, _) = Harness.StartDrained(args);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (Harness.LastCheckpointStep(outDir) < killAfter && !process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.False(process.HasExited, $"the run ended (exit {(process.HasExited ? process.ExitCode : 0)}) before it could be killed");
        process.Kill(); // SIGKILL on Linux: no handler, no flush, no cleanup
        process.WaitForExit();
        int reached = Harness.LastCheckpointStep(outDir);
        Assert.False(File.Exists(Path.Combine(outDir, "checkpoints", "final.safetensors")), "the run finished before it was killed");

        var resumed = Colar.Run(args);
        Assert.True(resumed.ExitCode == 0, resumed.All);
        var from = System.Text.RegularExpressions.Regex.Match(resumed.Output, @"resuming from step (\d+)");
        Assert.True(from.Success, resumed.Output);
        Assert.InRange(int.Parse(from.Groups[1].Value), Math.Max(reached, killAfter), int.MaxValue); // at most checkpoint_every steps lost
        Harness.AssertBitwiseEqual(expected, Path.Combine(outDir, "checkpoints", "final.safetensors"));
        // log_every=1: one metrics line per step, none twice (the steps after the saved state were logged before the kill).
        var logged = File.ReadLines(Path.Combine(outDir, "metrics.jsonl")).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["step"]!.GetValue<int>()).ToList();
        Assert.Equal(Enumerable.Range(1, model == "CoT" ? 24 : 12), logged);
        output.WriteLine($"{model}: killed after the checkpoint at step {reached}, resumed, final weights bitwise equal");
    }

    [Fact]
    public void Resume_WithOtherOptions_IsRefused_ExtendingIsNot_AndAStaleFinalCheckpointIsRewritten()
    {
        var outDir = Path.Combine(twins.Directory, "options");
        var final = Path.Combine(outDir, "checkpoints", "final.safetensors");
        string[] Args(params string[] extra) =>
            ["train", "--model", "CoT", "--data", twins.Data, "--out", outDir, "batch_size=4", "checkpoint_every=2", "seed=5", "threads=2", .. extra];
        var r = Colar.Run(Args("--steps", "4"));
        Assert.True(r.ExitCode == 0, r.All);
        var atFour = Path.Combine(twins.Directory, "options-final-at-4.safetensors");
        File.Copy(final, atFour, overwrite: true);

        // Another seed would change the data order from here on: refused, naming the option, and nothing is overwritten.
        r = Colar.Run(Args("--steps", "6", "seed=6"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("seed: 5 there, 6 now", r.Error);
        Assert.Contains("\"seed\": 5", File.ReadAllText(Path.Combine(outDir, "config.json")));

        // More steps extend the run.
        r = Colar.Run(Args("--steps", "6"));
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("resuming from step 4", r.Output);
        Assert.Equal(6, CoLaR.Runs.Resume.StepOf(final));

        // As if an extension had been cut short after its last state but before its final checkpoint: the earlier
        // final checkpoint is not passed off as the run's result.
        File.Copy(atFour, final, overwrite: true);
        r = Colar.Run(Args("--steps", "6"));
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("already trained", r.Output);
        Assert.Equal(6, CoLaR.Runs.Resume.StepOf(final));
    }

    /// <summary>
    /// RL (GRPO) resume: `colar train --stage rl` from the CoLaR twin, SIGKILLed after iteration 2 and rerun, ends bitwise
    /// equal to an uninterrupted RL run. The entropy bonus makes every iteration change the weights even when no rollout
    /// is rewarded (a barely trained model answers nothing right).
    /// </summary>
    [Fact]
    public void Rl_SigkillMidRun_ThenResume_GivesTheUninterruptedWeightsBitwise()
    {
        var init = twins.Final("CoLaR");
        string[] Args(string outDir) =>
        [
            "train", "--stage", "rl", "--model", "CoLaR", "--init", init, "--data", twins.Data, "--out", outDir, "--steps", "4",
            "questions=2", "group_size=2", "mini_batch=4", "checkpoint_every=1", "entropy_weight=0.01", "seed=3", "threads=2",
        ];
        var twinDir = Path.Combine(twins.Directory, "rl-twin");
        var twin = Colar.Run(Args(twinDir));
        Assert.True(twin.ExitCode == 0, twin.All);
        var expected = Path.Combine(twinDir, "checkpoints", "final.safetensors");
        Assert.True(Harness.AnyTensorDiffers(init, expected), "RL did not change the weights, so the comparison would prove nothing");

        var outDir = Path.Combine(twins.Directory, "rl-killed");
        var (process, _, _) = Harness.StartDrained(Args(outDir));
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (Harness.LastCheckpointStep(outDir) < 2 && !process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.False(process.HasExited, "the RL run ended before it could be killed");
        process.Kill();
        process.WaitForExit();
        Assert.False(File.Exists(Path.Combine(outDir, "checkpoints", "final.safetensors")), "the RL run finished before it was killed");

        var resumed = Colar.Run(Args(outDir));
        Assert.True(resumed.ExitCode == 0, resumed.All);
        Assert.Contains("resuming from iteration", resumed.Output);
        Harness.AssertBitwiseEqual(expected, Path.Combine(outDir, "checkpoints", "final.safetensors"));
        output.WriteLine($"RL: killed after the checkpoint at iteration {Harness.LastCheckpointStep(outDir)}, resumed, final weights bitwise equal");
    }

    /// <summary>
    /// Six SIGKILLs in one run: three during the first checkpoint write of a process (its temporary file exists), three
    /// at a seeded random moment of a step after some progress. The resumed run still ends bitwise equal.
    /// </summary>
    [Fact]
    public void RepeatedSigkills_DuringCheckpointWritesAndSteps_AreAllSurvived()
    {
        var expected = twins.Final("CoT");
        var outDir = Path.Combine(twins.Directory, "repeated-kills");
        var args = twins.Args("CoT", outDir);
        var random = new Random(8);
        var kills = new List<string>();
        int duringWrites = 0;
        for (int attempt = 0; attempt < 6; attempt++)
        {
            int before = Harness.LastCheckpointStep(outDir);
            var (process, _, _) = Harness.StartDrained(args);
            var deadline = DateTime.UtcNow.AddMinutes(3);
            bool duringWrite = attempt % 2 == 0;
            if (duringWrite)
            {
                // The first save of this process: its temporary file appears in state/ or checkpoints/ and is renamed
                // away when done. Killed there, the run loses the save and resumes from the one before it.
                string suffix = ".tmp-" + process.Id;
                while (!process.HasExited && DateTime.UtcNow < deadline && !Temporaries(outDir).Any(f => f.EndsWith(suffix, StringComparison.Ordinal))) Thread.Sleep(2);
            }
            else
            {
                // One new checkpoint, then a seeded random moment of the steps that follow (short, so that even on an
                // idle machine, where a step takes tens of milliseconds, the run is far from its end).
                while (Harness.LastCheckpointStep(outDir) <= before && !process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(5);
                Thread.Sleep(random.Next(0, 400));
            }
            if (process.HasExited) break; // finished: nothing left to interrupt
            process.Kill();
            process.WaitForExit();
            bool torn = Temporaries(outDir).Any(f => f.EndsWith(".tmp-" + process.Id, StringComparison.Ordinal));
            if (torn) duringWrites++;
            kills.Add($"{(duringWrite ? "in a write" : "in a step")} after step {Harness.LastCheckpointStep(outDir)}{(torn ? " (torn temporary file left)" : "")}");
            Assert.False(File.Exists(Path.Combine(outDir, "checkpoints", "final.safetensors")));
        }
        var final = Colar.Run(args);
        Assert.True(final.ExitCode == 0, final.All);
        Harness.AssertBitwiseEqual(expected, Path.Combine(outDir, "checkpoints", "final.safetensors"));
        output.WriteLine($"{kills.Count} SIGKILLs survived, {duringWrites} of them with a checkpoint write torn: {string.Join("; ", kills)}");
        Assert.True(kills.Count == 6, $"only {kills.Count} kills happened");
        Assert.True(duringWrites >= 1, "no kill landed during a checkpoint write");
    }

    static IEnumerable<string> Temporaries(string outDir) =>
        new[] { "state", "checkpoints" }.Select(d => Path.Combine(outDir, d)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.tmp-*"));

    /// <summary>A crash after the last state was saved but before final.safetensors was written: the rerun writes it from the state.</summary>
    [Fact]
    public void MissingFinalCheckpoint_IsRewrittenFromTheSavedState()
    {
        var expected = twins.Final("CoT");
        var outDir = CopyOf(Path.GetDirectoryName(Path.GetDirectoryName(expected))!, "no-final");
        File.Delete(Path.Combine(outDir, "checkpoints", "final.safetensors"));

        var r = Colar.Run(twins.Args("CoT", outDir));
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("already trained", r.Output);
        Harness.AssertBitwiseEqual(expected, Path.Combine(outDir, "checkpoints", "final.safetensors"));
    }

    /// <summary>A damaged training state is reported with the file and the previous good state, never silently loaded or replaced.</summary>
    [Fact]
    public void CorruptTrainingState_IsReportedNotLoaded()
    {
        var expected = twins.Final("CoT");
        var outDir = CopyOf(Path.GetDirectoryName(Path.GetDirectoryName(expected))!, "corrupt-state");
        var state = TrainingState.PathIn(Path.Combine(outDir, "state"));
        var bytes = File.ReadAllBytes(state);
        File.WriteAllBytes(state, bytes[..(bytes.Length / 2)]); // what a torn write without the atomic rename would leave

        var r = Colar.Run(twins.Args("CoT", outDir));
        var error = Harness.AssertCleanFailure(r, exitCode: 2);
        Assert.Contains(state, error);
        Assert.Contains("truncated", error);
        Assert.Contains(Checkpoint.PreviousPath(state), error); // where to turn
        Harness.AssertTraceLogged(outDir, "truncated");
        Assert.Equal(bytes.Length / 2, new FileInfo(state).Length); // nothing overwrote the evidence
    }

    static string CopyOf(string source, string name)
    {
        var target = Path.Combine(Path.GetDirectoryName(source)!, name);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to, overwrite: true);
        }
        return target;
    }
}
