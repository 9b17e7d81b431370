using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoLaR.Data;
using CoLaR.Evaluation;
using CoLaR.Inference;
using CoLaR.Modules;
using CoLaR.Native;
using CoLaR.Runs;
using CoLaR.Training;

namespace CoLaR.Models.Cli;

/// <summary>
/// `colar eval --checkpoint FILE --data FILE --out DIR [--config FILE] [key=value ...]`: accuracy and #L with 95% CIs.
/// Options (<see cref="EvalSettings"/> and <see cref="RunOptions"/>) come from defaults, the config file, key=value
/// overrides, then explicit flags; the effective configuration is printed and saved as DIR/config.json.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by `colar train` (or `colar import`, with --model)", Required = true };
        var data = new Option<string>("--data") { Description = "Test data (GSM8k-Aug text, JSON or JSONL)", Required = true };
        var output = new Option<string>("--out") { Description = "Where results.json, table.md, plot.png and config.json go", Required = true };
        var compression = new Option<int[]>("--compression") { Description = "Speeds to prompt (default: every c the model was trained for)", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int?>("--seeds") { Description = "Repetitions with different random streams (default 3)" };
        var limit = new Option<int?>("--limit") { Description = "Evaluate the first N questions only (0: all)" };
        var decoding = new Option<string?>("--decoding") { Description = "Answer decoding: greedy (default) or top-p (0.9, T=1, as in the paper)" };
        var temperature = new Option<double?>("--latent-temperature") { Description = "Latent sampling temperature (0: the mean; default 1)" };
        var batch = new Option<int?>("--batch-size") { Description = "Questions answered together (default 128)" };
        var maxLatents = new Option<int?>("--max-latents") { Description = "Reasoning budget: answer after at most N latent (or CoT) steps (default: the model's cap)" };
        var device = new Option<string?>("--device") { Description = "cpu (default), cuda, cuda:N or auto" };
        var precision = new Option<string?>("--precision") { Description = "auto (bf16 on CUDA, fp32 on CPU; default), fp32 or bf16" };
        var name = new Option<string?>("--dataset") { Description = "Dataset name in the results (default: the file's folder or name)" };
        var model = new Option<string?>("--model") { Description = "Run the checkpoint as this declared model (needed for an imported backbone)" };
        var config = new Option<string?>("--config") { Description = "JSON file of options (keys as in key=value)" };
        var overrides = new Argument<string[]>("key=value") { Description = "Option overrides, e.g. seeds=5 decoding=top-p", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("eval", "Evaluate a checkpoint: accuracy and #L over seeds, with 95% confidence intervals")
            { checkpoint, data, output, compression, seeds, limit, decoding, temperature, batch, maxLatents, device, precision, name, model, config, overrides };
        command.SetAction(parse =>
        {
            var outDir = parse.GetValue(output)!;
            return Failures.Guard(() =>
            {
                var values = Options.Layered(parse.GetValue(config), parse.GetValue(overrides) ?? [],
                    ("compression", parse.GetValue(compression) is { Length: > 0 } cs ? string.Join(",", cs) : null),
                    ("seeds", parse.GetValue(seeds)?.ToString()), ("limit", parse.GetValue(limit)?.ToString()),
                    ("decoding", parse.GetValue(decoding)), ("latent_temperature", parse.GetValue(temperature)?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ("batch_size", parse.GetValue(batch)?.ToString()), ("max_latents", parse.GetValue(maxLatents)?.ToString()), ("device", parse.GetValue(device)), ("precision", parse.GetValue(precision)),
                    ("dataset", parse.GetValue(name)), ("model", parse.GetValue(model)));
                var (settings, run) = Bind(values);
                var checkpointPath = parse.GetValue(checkpoint)!;
                var dataPath = parse.GetValue(data)!;
                var effective = new JsonObject
                {
                    ["checkpoint"] = Path.GetFullPath(checkpointPath), ["data"] = Path.GetFullPath(dataPath),
                    ["eval"] = RunConfig.ToJson(settings), ["run"] = RunConfig.ToJson(run),
                };
                var text = effective.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
                Console.WriteLine($"eval {checkpointPath} → {outDir}");
                Console.WriteLine(text);
                Directory.CreateDirectory(outDir);
                File.WriteAllText(Path.Combine(outDir, "config.json"), text + "\n");

                var torchDevice = TorchDevices.Resolve(run.Device);
                if (run.Threads > 0) TorchSharp.torch.set_num_threads(run.Threads);
                var loaded = LoadedModel.Open(checkpointPath, torchDevice, settings.Model, Precisions.Resolve(run.Precision, torchDevice));
                var samples = DatasetReader.Read(dataPath);
                if (settings.Limit > 0) samples = samples.Take(settings.Limit).ToList();
                if (run.MaxSamples > 0) samples = samples.Take(run.MaxSamples).ToList();
                var (min, max) = loaded.Spec.CompressionRange;
                var speeds = settings.Compression is { Length: > 0 } given ? given : Enumerable.Range(min, max - min + 1).ToArray();
                foreach (var c in speeds)
                    if (c < min || c > max) throw new ArgumentException($"--compression {c} is outside the range {loaded.Spec.Name} was trained on ({min}..{max}; checkpoint {loaded.Checkpoint})");
                var options = new EvalOptions(speeds, settings.Seeds, settings.BatchSize, ParseDecoding(settings.Decoding), settings.LatentTemperature, settings.Seed,
                    Cap(settings.MaxLatents), Cap(settings.MaxAnswerTokens));
                string dataset = settings.Dataset ?? DatasetName(dataPath);
                var rows = Report.Evaluate(loaded, samples, dataset, options, Console.Out);
                Report.Write(outDir, rows, Console.Out);
                return 0;
            }, outDir);
        });
        return command;
    }

    /// <summary>Binds eval/infer options and run options, refusing unknown keys.</summary>
    public static (EvalSettings Settings, RunOptions Run) Bind(IReadOnlyDictionary<string, (string Value, string Source)> values)
    {
        var used = new HashSet<string>();
        var settings = RunConfig.Bind(new EvalSettings(), values, used);
        var run = RunConfig.Bind(new RunOptions(), values, used);
        RunConfig.RejectUnknown(values, used, RunConfig.Keys<EvalSettings>().Concat(RunConfig.Keys<RunOptions>()));
        // Everything checkable is checked here, before a model or a data file is read.
        if (settings.MaxLatents < 0) throw new ArgumentException($"--max-latents {settings.MaxLatents}: must be 0 (the model's own cap) or more");
        settings.Validate();
        run.Validate();
        ParseDecoding(settings.Decoding); // fail early on a typo
        return (settings, run);
    }

    /// <summary>An eval/infer cap option: 0 means the model's own (null).</summary>
    public static int? Cap(int value) => value > 0 ? value : null;

    public static AnswerDecoding ParseDecoding(string text) => text.ToLowerInvariant() switch
    {
        "greedy" => AnswerDecoding.Greedy,
        "top-p" or "topp" or "top_p" or "sample" => AnswerDecoding.TopP09,
        _ => throw new ArgumentException($"--decoding '{text}' is not greedy or top-p"),
    };

    /// <summary>"gsm8k-aug" for ../shared/data/gsm8k-aug/valid.txt; the file name otherwise.</summary>
    public static string DatasetName(string path)
    {
        var file = Path.GetFileNameWithoutExtension(path);
        var folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)));
        return file is "valid" or "test" or "train" && !string.IsNullOrEmpty(folder) ? folder : file;
    }
}

/// <summary>Evaluation output shared by `eval`, `demo` and `reproduce`.</summary>
public static class Report
{
    public static IReadOnlyList<ResultRow> Evaluate(LoadedModel loaded, IReadOnlyList<Sample> samples, string dataset, EvalOptions options, TextWriter console, string? method = null)
    {
        var encoded = samples.Select(loaded.Layout.Encode).ToList();
        int configs = loaded.Spec.Method == ReasoningMethod.CompressedLatent ? options.Compressions.Count : 1;
        using var progress = Progress.Start($"eval {loaded.Spec.Name} on {dataset}", (long)encoded.Count * options.Seeds * configs, new ProgressOptions { Output = console });
        return Evaluator.Run(loaded.Model, loaded.Layout, encoded, method ?? loaded.Spec.Name, dataset, options, loaded.Device, progress);
    }

    public static void Write(string directory, IReadOnlyList<ResultRow> rows, TextWriter console)
    {
        var table = ResultsTable.Markdown(rows);
        ResultsFile.Write(Path.Combine(directory, "results.json"), rows);
        File.WriteAllText(Path.Combine(directory, "table.md"), table + "\n");
        ResultsPlot.Save(Path.Combine(directory, "plot.png"), rows);
        console.WriteLine();
        console.WriteLine(table);
        console.WriteLine($"wrote {Path.Combine(directory, "results.json")}, table.md, plot.png");
    }
}
