using System.Diagnostics;
using CoLaR.Data;
using CoLaR.Evaluation;
using CoLaR.Models.Cli;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Training;

namespace CoLaR.Models.Workflows;

/// <summary>The sizes of a demo run. <see cref="Default"/> is the main job; <see cref="Quick"/> checks the pipeline in well under a minute.</summary>
public sealed record DemoProfile(
    string Name,
    int TrainSamples,
    int TestSamples,
    WordProblemOptions Problems,
    SftOptions CoT,
    SftOptions CoLaR,
    int Seeds,
    double LatentTemperature)
{
    public static readonly WordProblemOptions Problems3 = new() { MinSteps = 2, MaxSteps = 3, MaxOperand = 20, MaxFactor = 3, MaxValue = 99 };

    public static DemoProfile Default { get; } = new("default", 20_000, 300, Problems3,
        CoT: new SftOptions { Steps = 800, BatchSize = 32, LearningRate = 1e-3, WarmupSteps = 50, CheckpointEvery = 200, Seed = 1 },
        CoLaR: new SftOptions { Steps = 2200, BatchSize = 32, LearningRate = 1e-3, WarmupSteps = 50, CheckpointEvery = 200, Seed = 2 },
        Seeds: 3, LatentTemperature: 1.0);

    public static DemoProfile Quick { get; } = new("quick", 2_000, 40, Problems3,
        CoT: new SftOptions { Steps = 30, BatchSize = 16, LearningRate = 1e-3, WarmupSteps = 5, CheckpointEvery = 15, Seed = 1 },
        CoLaR: new SftOptions { Steps = 30, BatchSize = 16, LearningRate = 1e-3, WarmupSteps = 5, CheckpointEvery = 15, Seed = 2 },
        Seeds: 1, LatentTemperature: 1.0);
}

/// <summary>
/// The main job: synthesise grade-school word problems, train the embedded TinyLlama as CoT, then as
/// CoLaR from the CoT backbone, evaluate CoT and CoLaR at c = 1..5 on held-out questions, and write
/// results.json, table.md, plot.png, checkpoints and event files. Re-running into the same folder
/// resumes finished or interrupted training.
/// </summary>
public sealed class Demo(DemoProfile profile, string outputDirectory, string device, TextWriter console)
{
    public const string CoTModel = "CoT", CoLaRModel = "CoLaR";

    public IReadOnlyList<ResultRow> Run()
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(outputDirectory);
        console.WriteLine($"CoLaR demo ({profile.Name} profile) → {Path.GetFullPath(outputDirectory)}");

        // 1. Data: a training set and held-out questions that never appear in it.
        var train = SyntheticData.WordProblems(profile.TrainSamples, profile.Problems, seed: 1);
        var seen = train.Select(s => s.Question).ToHashSet(StringComparer.Ordinal);
        var test = SyntheticData.WordProblems(profile.TestSamples * 3, profile.Problems, seed: 2)
            .Where(s => !seen.Contains(s.Question)).Take(profile.TestSamples).ToList();
        var dataDir = Path.Combine(outputDirectory, "data");
        Directory.CreateDirectory(dataDir);
        DatasetWriter.Write(Path.Combine(dataDir, "train.txt"), train);
        DatasetWriter.Write(Path.Combine(dataDir, "test.txt"), test);
        console.WriteLine($"data: {train.Count} training problems, {test.Count} held-out ({profile.Problems.MinSteps}-{profile.Problems.MaxSteps} steps) in {dataDir}");

        // 2. CoT SFT, then 3. CoLaR SFT from the CoT backbone.
        var cot = Train(CoTModel, train, profile.CoT, init: null);
        var colar = Train(CoLaRModel, train, profile.CoLaR, init: cot);
        var checkpoints = Path.Combine(outputDirectory, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        File.Copy(cot, Path.Combine(checkpoints, "cot.safetensors"), overwrite: true);
        File.Copy(colar, Path.Combine(checkpoints, "colar.safetensors"), overwrite: true);
        console.WriteLine($"training done after {clock.Elapsed:mm\\:ss}");

        // 4. Evaluation: CoT once (its reasoning is text), CoLaR at every speed.
        var torchDevice = Native.TorchDevices.Resolve(device);
        var options = new EvalOptions(new[] { 1, 2, 3, 4, 5 }, profile.Seeds, BatchSize: 150, LatentTemperature: profile.LatentTemperature);
        var rows = new List<ResultRow>();
        rows.AddRange(Report.Evaluate(LoadedModel.Open(cot, torchDevice), test, "synthetic", options, console, method: "CoT"));
        rows.AddRange(Report.Evaluate(LoadedModel.Open(colar, torchDevice), test, "synthetic", options, console, method: "CoLaR"));
        Report.Write(outputDirectory, rows, console);
        console.WriteLine();
        foreach (var line in Checks(rows)) console.WriteLine(line);
        console.WriteLine($"demo finished in {clock.Elapsed:mm\\:ss}");
        return rows;
    }

    string Train(string model, IReadOnlyList<Sample> data, SftOptions options, string? init) =>
        new SftRun
        {
            Model = ModelRegistry.Get(model), Data = data, OutputDirectory = Path.Combine(outputDirectory, model.ToLowerInvariant()),
            Sft = options, Run = new RunOptions { Device = device }, Init = init, Console = console,
            Describe = new Dictionary<string, string> { ["data"] = "synthetic word problems (demo)", ["profile"] = profile.Name },
        }.Execute();

    /// <summary>The demo's claims, measured: CoLaR's #L against CoT's / c, and how much accuracy CoLaR-2 keeps.</summary>
    public static IEnumerable<string> Checks(IReadOnlyList<ResultRow> rows)
    {
        var cot = rows.FirstOrDefault(r => r.Method == "CoT");
        if (cot is null) yield break;
        foreach (var r in rows.Where(r => r.Method == "CoLaR" && r.Compression >= 2))
        {
            double ratio = cot.MeanSteps > 0 ? r.MeanSteps / (cot.MeanSteps / r.Compression) : double.NaN;
            yield return $"CoLaR-{r.Compression}: #L {r.MeanSteps:F2} = {ratio:F2} × CoT's #L / {r.Compression} (target ≤ 1.3){(ratio <= 1.3 ? "" : "  ← above target")}";
        }
        var c2 = rows.FirstOrDefault(r => r.Method == "CoLaR" && r.Compression == 2);
        if (c2 is not null)
        {
            string kept = cot.Accuracy > 0 ? (c2.Accuracy / cot.Accuracy).ToString("P0") : "n/a";
            bool met = cot.Accuracy > 0 && c2.Accuracy / cot.Accuracy >= 0.7;
            yield return $"CoLaR-2 keeps {kept} of CoT's accuracy ({c2.Accuracy:P1} vs {cot.Accuracy:P1}; target ≥ 70%){(met ? "" : "  ← below target")}";
        }
    }
}
