using System.Diagnostics;
using CoLaR.Data;
using CoLaR.Evaluation;
using CoLaR.Models.Cli;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Training;

namespace CoLaR.Models.Workflows;

/// <summary>What `colar reproduce` trains on and evaluates against.</summary>
/// <param name="Name">Dataset name in the results ("synthetic", "mult-4x4", …).</param>
/// <param name="Train">Training samples.</param>
/// <param name="Tests">Held-out sets by name (the synthetic held-out set and real ones from ../shared/data).</param>
public sealed record ReproductionData(string Name, IReadOnlyList<Sample> Train, IReadOnlyDictionary<string, IReadOnlyList<Sample>> Tests);

/// <summary>Training budget of a reproduction.</summary>
/// <param name="RealTestSamples">Questions scored from each real held-out set (its first N; 0: all). GSM8k-Aug's long
/// questions make a model trained on synthetic problems reason to the step cap, so 500 of them cost minutes per model.</param>
public sealed record ReproductionProfile(string Name, SftOptions CoT, SftOptions Variant, int EvalSeeds, int TestSamples, int RealTestSamples)
{
    // Ten variants at 1,600 steps each fit in about an hour on 2 cores; the demo trains its one CoLaR longer
    // (DemoProfile.Default). The CoT run is the demo's previous default, so its numbers are comparable.
    public static ReproductionProfile Default { get; } = new("default",
        CoT: DemoProfile.Default.CoT with { Steps = 800, CheckpointEvery = 200 }, Variant: DemoProfile.Default.CoLaR with { Steps = 1600, CheckpointEvery = 200 }, EvalSeeds: 3, TestSamples: 300, RealTestSamples: 100);

    public static ReproductionProfile Quick { get; } = new("quick",
        CoT: DemoProfile.Quick.CoT, Variant: DemoProfile.Quick.CoLaR, EvalSeeds: 1, TestSamples: 20, RealTestSamples: 20);
}

/// <summary>
/// The paper's Table 1 at this machine's scale: CoT is trained first; every other variant starts from its
/// backbone (No-CoT from scratch, with the same total steps) and trains the same number of steps; each is
/// evaluated on every held-out set over several seeds. Finished runs and evaluations are skipped when the
/// command is rerun, so an interrupted reproduction resumes.
/// </summary>
public sealed class Reproduce(ReproductionProfile profile, ReproductionData data, IReadOnlyList<string> methods, string outputDirectory,
    string device, TextWriter console)
{
    /// <summary>Every declared variant of the comparison, in the order of the table.</summary>
    public static readonly string[] AllMethods =
        { "CoT", "NoCoT", "iCoT", "Coconut", "Distill", "CoLaR", "CoLaR_DL", "CoLaR_OC", "CoLaR_MP", "CoLaR_NLL" };

    public IReadOnlyList<ResultRow> Run()
    {
        var clock = Stopwatch.StartNew();
        var root = Path.Combine(outputDirectory, data.Name);
        Directory.CreateDirectory(root);
        console.WriteLine($"reproduce ({profile.Name}) on {data.Name}: {data.Train.Count} training samples; held-out: " +
                          string.Join(", ", data.Tests.Select(t => $"{t.Key} ({t.Value.Count})")) + $" → {Path.GetFullPath(root)}");

        var cot = TrainVariant("CoT", profile.CoT, init: null, root);
        var rows = new List<ResultRow>();
        foreach (var method in methods)
        {
            var checkpoint = method == "CoT" ? cot : TrainVariant(method, profile.Variant, method == "NoCoT" ? null : cot, root);
            foreach (var (testName, test) in data.Tests)
                rows.AddRange(Evaluate(method, checkpoint, testName, test, Path.Combine(root, Folder(method))));
            console.WriteLine($"{method} done ({clock.Elapsed:hh\\:mm\\:ss} so far)");
        }
        console.WriteLine($"reproduction finished in {clock.Elapsed:hh\\:mm\\:ss}");
        return rows;
    }

    string TrainVariant(string method, SftOptions options, string? init, string root)
    {
        var entry = ModelRegistry.Get(method);
        var sft = options;
        var train = data.Train;
        if (method == "NoCoT") sft = sft with { Steps = profile.CoT.Steps + options.Steps, Seed = options.Seed + 7 };
        if (entry.Spec.Curriculum is { } curriculum)
        {
            // Size the epoch so the curriculum reaches its last stage with two stages' worth of training left.
            int epochs = (curriculum.MaxStages + 2) * curriculum.EpochsPerStage;
            int samples = Math.Max(sft.BatchSize, sft.Steps * sft.BatchSize / epochs);
            train = train.Take(Math.Min(samples, train.Count)).ToList();
        }
        return new SftRun
        {
            Model = entry, Data = train, OutputDirectory = Path.Combine(root, Folder(method)), Sft = sft,
            Run = new RunOptions { Device = device }, Init = init, Console = console,
            Describe = new Dictionary<string, string> { ["data"] = data.Name, ["workflow"] = "reproduce", ["profile"] = profile.Name },
        }.Execute();
    }

    IReadOnlyList<ResultRow> Evaluate(string method, string checkpoint, string testName, IReadOnlyList<Sample> test, string runDirectory)
    {
        var cache = Path.Combine(runDirectory, $"eval-{testName}.json");
        if (File.Exists(cache)) return ResultsFile.Read(cache);
        var loaded = LoadedModel.Open(checkpoint, Native.TorchDevices.Resolve(device));
        var (min, max) = loaded.Spec.CompressionRange;
        var options = new EvalOptions(Enumerable.Range(min, max - min + 1).Where(c => c is 1 or 2 or 5 || max <= 2).ToArray(), profile.EvalSeeds, BatchSize: 100);
        var rows = Report.Evaluate(loaded, test, testName, options, console, method: Label(method));
        ResultsFile.Write(cache, rows);
        return rows;
    }

    static string Folder(string method) => method.ToLowerInvariant().Replace('_', '-');

    /// <summary>"CoLaR_DL" → "CoLaR-DL", the paper's names.</summary>
    public static string Label(string method) => method.Replace('_', '-');
}
