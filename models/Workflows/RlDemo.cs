using System.Text.Json;
using System.Text.Json.Nodes;
using CoLaR.Data;
using CoLaR.Evaluation;
using CoLaR.Models.Cli;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Training.Grpo;

namespace CoLaR.Models.Workflows;

/// <summary>
/// Stage 2 on the embedded benchmark: from the demo's CoLaR SFT checkpoint, GRPO with the length
/// penalty; the same held-out questions are evaluated before and after with the same seeds and the same
/// compression prompt. Writes rl.json ({before, after, command}), rl-curves.png (reward, accuracy, #L
/// over training) and the RL run's folder.
/// </summary>
public sealed class RlDemo(string demoDirectory, string outputDirectory, GrpoOptions options, int evalSeeds, string device, string command, TextWriter console,
    string? sftCheckpoint = null)
{
    public JsonObject Run()
    {
        options.Validate(); // before the evaluation that precedes training, so a typo costs nothing
        var checkpoint = sftCheckpoint ?? Path.Combine(demoDirectory, "checkpoints", "colar.safetensors");
        var trainFile = Path.Combine(demoDirectory, "data", "train.txt");
        var testFile = Path.Combine(demoDirectory, "data", "test.txt");
        foreach (var f in new[] { checkpoint, trainFile, testFile })
            if (!File.Exists(f))
                throw new FileNotFoundException(f == sftCheckpoint ? $"--checkpoint {f} not found" : $"{f} not found: run `colar demo --out {demoDirectory}` first");
        Directory.CreateDirectory(outputDirectory);
        var test = DatasetReader.Read(testFile);
        var evalOptions = new EvalOptions(new[] { options.Compression }, evalSeeds, BatchSize: 150);
        var torchDevice = Native.TorchDevices.Resolve(device);

        console.WriteLine($"before RL: {checkpoint}");
        var sft = LoadedModel.Open(checkpoint, torchDevice);
        var before = Report.Evaluate(sft, test, "synthetic", evalOptions, console, method: $"{sft.Spec.Name} (SFT)").Single();

        var rl = new RlRun
        {
            Model = ModelRegistry.Get(sft.Spec.Name), Data = DatasetReader.Read(trainFile), OutputDirectory = Path.Combine(outputDirectory, "run"),
            Init = checkpoint, Grpo = options, Run = new RunOptions { Device = device }, Console = console,
            Describe = new Dictionary<string, string> { ["data"] = Path.GetFullPath(trainFile), ["workflow"] = "rl-demo" },
        };
        var after = Report.Evaluate(LoadedModel.Open(rl.Execute(), torchDevice), test, "synthetic", evalOptions, console, method: $"{sft.Spec.Name} (RL)").Single();

        var metrics = MetricsFile.Read(Path.Combine(rl.OutputDirectory, RunLog.MetricsFileName));
        LinePlot.Save(Path.Combine(outputDirectory, "rl-curves.png"), $"GRPO from {sft.Spec.Name} SFT (length penalty)", new[]
        {
            MetricsFile.Series(metrics, "accuracy", RunPhase.Rl, "accuracy"),
            MetricsFile.Series(metrics, "reward", RunPhase.Rl, "reward"),
            Scaled(MetricsFile.Series(metrics, "mean_steps", RunPhase.Rl, "#L / 10"), 0.1),
        }, xLabel: "GRPO iteration");

        var result = new JsonObject
        {
            ["before"] = Summary(before),
            ["after"] = Summary(after),
            ["mean_steps_change"] = before.MeanSteps > 0 ? (after.MeanSteps - before.MeanSteps) / before.MeanSteps : null,
            ["accuracy_change_points"] = 100 * (after.Accuracy - before.Accuracy),
            ["compression"] = options.Compression,
            ["seeds"] = evalSeeds,
            ["questions"] = test.Count,
            ["grpo"] = RunConfig.ToJson(options),
            ["command"] = command,
        };
        File.WriteAllText(Path.Combine(outputDirectory, "rl.json"), result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        console.WriteLine($"#L {before.MeanSteps:F2} → {after.MeanSteps:F2} ({100 * (after.MeanSteps - before.MeanSteps) / Math.Max(1e-9, before.MeanSteps):+0.0;-0.0}%), " +
                          $"accuracy {before.Accuracy:P1} → {after.Accuracy:P1} ({100 * (after.Accuracy - before.Accuracy):+0.0;-0.0} points)");
        console.WriteLine($"wrote {Path.Combine(outputDirectory, "rl.json")} and rl-curves.png");
        return result;
    }

    static JsonObject Summary(ResultRow row) => new()
    {
        ["accuracy"] = row.Accuracy, ["accuracy_ci95"] = row.AccuracyCi95,
        ["mean_steps"] = row.MeanSteps, ["mean_steps_ci95"] = row.MeanStepsCi95,
    };

    static LineSeries Scaled(LineSeries series, double factor) => series with { Y = series.Y.Select(y => y * factor).ToArray() };
}
