using System.CommandLine;
using CoLaR.Data;
using CoLaR.Evaluation;
using CoLaR.Inference;
using CoLaR.Modules;
using CoLaR.Native;
using CoLaR.Runs;

namespace CoLaR.Models.Cli;

/// <summary>`colar eval --checkpoint FILE --data FILE [--compression C] [--seeds N] --out DIR`: accuracy and #L with 95% CIs.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by `colar train`", Required = true };
        var data = new Option<string>("--data") { Description = "Test data (GSM8k-Aug text, JSON or JSONL)", Required = true };
        var output = new Option<string>("--out") { Description = "Where results.json, table.md and plot.png go", Required = true };
        var compression = new Option<int[]>("--compression") { Description = "Speeds to prompt (default: every c the model was trained for)", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int>("--seeds") { Description = "Repetitions with different random streams", DefaultValueFactory = _ => 3 };
        var limit = new Option<int>("--limit") { Description = "Evaluate the first N questions only (0: all)" };
        var decoding = new Option<string>("--decoding") { Description = "Answer decoding: greedy or top-p (0.9, T=1, as in the paper)", DefaultValueFactory = _ => "greedy" };
        var temperature = new Option<double>("--latent-temperature") { Description = "Latent sampling temperature (0: the mean)", DefaultValueFactory = _ => 1.0 };
        var batch = new Option<int>("--batch-size") { Description = "Questions answered together", DefaultValueFactory = _ => 128 };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var name = new Option<string?>("--dataset") { Description = "Dataset name in the results (default: the file's folder or name)" };
        var command = new Command("eval", "Evaluate a checkpoint: accuracy and #L over seeds, with 95% confidence intervals")
            { checkpoint, data, output, compression, seeds, limit, decoding, temperature, batch, device, name };
        command.SetAction(parse =>
        {
            var outDir = parse.GetValue(output)!;
            return Failures.Guard(() =>
            {
                var loaded = LoadedModel.Open(parse.GetValue(checkpoint)!, TorchDevices.Resolve(parse.GetValue(device)!));
                var dataPath = parse.GetValue(data)!;
                var samples = DatasetReader.Read(dataPath);
                if (parse.GetValue(limit) is > 0 and var n) samples = samples.Take(n).ToList();
                var (min, max) = loaded.Spec.CompressionRange;
                var cs = parse.GetValue(compression) is { Length: > 0 } given ? given : Enumerable.Range(min, max - min + 1).ToArray();
                foreach (var c in cs)
                    if (c < min || c > max) throw new ArgumentException($"--compression {c} is outside the range {loaded.Spec.Name} was trained on ({min}..{max})");
                var options = new EvalOptions(cs, parse.GetValue(seeds), parse.GetValue(batch), ParseDecoding(parse.GetValue(decoding)!), parse.GetValue(temperature));
                string dataset = parse.GetValue(name) ?? DatasetName(dataPath);
                Directory.CreateDirectory(outDir);
                var rows = Report.Evaluate(loaded, samples, dataset, options, Console.Out);
                Report.Write(outDir, rows, Console.Out);
                return 0;
            }, outDir);
        });
        return command;
    }

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
