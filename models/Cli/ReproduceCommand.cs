using System.CommandLine;
using CoLaR.Data;
using CoLaR.Evaluation;
using CoLaR.Models.Workflows;

namespace CoLaR.Models.Cli;

/// <summary>`colar reproduce`: every variant trained and evaluated the same way; a Table-1-style table and results JSON.</summary>
public static class ReproduceCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "synthetic (word problems; also scored on GSM8k-Aug validation), mult4 or mult5 (4x4 or 5x5 multiplication; scored on mult-4x4 or mult-5x5), gsm8k (needs --train)", DefaultValueFactory = _ => "synthetic" };
        var train = new Option<string?>("--train") { Description = "Training file for --dataset gsm8k (GSM8k-Aug text, JSON or JSONL)" };
        var methods = new Option<string>("--methods") { Description = "Comma-separated variants (default: all of " + string.Join(",", Reproduce.AllMethods) + ")", DefaultValueFactory = _ => string.Join(",", Reproduce.AllMethods) };
        var output = new Option<string>("--out") { Description = "Where runs, table.md and plot.png go (rerun to resume)", DefaultValueFactory = _ => Path.Combine("out", "reproduce") };
        var results = new Option<string?>("--results") { Description = "Also write the rows to this JSON file (e.g. docs/results/reproduction.json); rows of other datasets already there are kept" };
        var dataRoot = new Option<string>("--data-root") { Description = "Folder of the real held-out sets", DefaultValueFactory = _ => Path.Combine("..", "shared", "data") };
        var quick = new Option<bool>("--quick") { Description = "Tiny budgets: checks the whole comparison in a few minutes" };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var jobs = new Option<int>("--jobs") { Description = "Runs trained at once, each in a single-threaded child process (results do not depend on it; with --device cuda, processes share the GPU)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var trainingSeeds = new Option<int>("--training-seeds") { Description = "Independent trainings of every variant; with more than one, ± is the interval over them", DefaultValueFactory = _ => 1 };
        var seedIndex = new Option<int?>("--seed-index") { Description = "Internal: the one training seed a --worker runs", Hidden = true };
        var worker = new Option<bool>("--worker") { Description = "Internal: run as one child of --jobs (no table)", Hidden = true };
        var command = new Command("reproduce", "Train and evaluate CoT, No-CoT, iCoT, Coconut, Distill, CoLaR and its ablations; write a Table-1-style table")
            { dataset, train, methods, output, results, dataRoot, quick, device, jobs, trainingSeeds, seedIndex, worker };
        command.SetAction(parse =>
        {
            var outDir = parse.GetValue(output)!;
            return Failures.Guard(() =>
            {
                var profile = parse.GetValue(quick) ? ReproductionProfile.Quick : ReproductionProfile.Default;
                var chosen = parse.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                foreach (var m in chosen)
                    if (!Reproduce.AllMethods.Contains(m)) throw new ArgumentException($"--methods: '{m}' is not one of {string.Join(", ", Reproduce.AllMethods)}");
                var data = Datasets(parse.GetValue(dataset)!, parse.GetValue(train), parse.GetValue(dataRoot)!, profile, parse.GetValue(quick));
                int slots = parse.GetValue(jobs);
                if (slots < 1) throw new ArgumentException($"--jobs must be 1 or more (got {slots})");
                bool isWorker = parse.GetValue(worker);
                int seeds = parse.GetValue(trainingSeeds);
                if (seeds < 1) throw new ArgumentException($"--training-seeds must be 1 or more (got {seeds})");
                if (parse.GetValue(seedIndex) is { } index && (index < 0 || index >= seeds))
                    throw new ArgumentException($"--seed-index {index} is outside 0..{seeds - 1}");
                // A child gets this command's own arguments with one method, one training seed, one job and the worker flag.
                IReadOnlyList<string> ChildArguments(string method, int seed)
                {
                    var a = new List<string> { "reproduce", "--dataset", parse.GetValue(dataset)!, "--methods", method, "--out", outDir,
                        "--data-root", parse.GetValue(dataRoot)!, "--device", parse.GetValue(device)!, "--jobs", "1", "--worker",
                        "--training-seeds", seeds.ToString(), "--seed-index", seed.ToString() };
                    if (parse.GetValue(train) is { } t) a.AddRange(new[] { "--train", t });
                    if (parse.GetValue(quick)) a.Add("--quick");
                    return a;
                }
                var reproduce = new Reproduce(profile, data, chosen, outDir, parse.GetValue(device)!, Console.Out)
                {
                    Workers = slots > 1 && !isWorker ? new WorkerPool(slots, Console.Out) : null,
                    WorkerArguments = ChildArguments,
                    TrainingSeeds = seeds,
                    OnlySeed = parse.GetValue(seedIndex),
                };
                var rows = reproduce.Run();
                if (isWorker) return 0; // the parent writes the table once every child has finished
                var dir = Path.Combine(outDir, data.Name);
                Report.Write(dir, rows, Console.Out);
                if (parse.GetValue(results) is { } path) Merge(path, rows, data.Name);
                return 0;
            }, outDir);
        });
        return command;
    }

    static ReproductionData Datasets(string name, string? trainFile, string dataRoot, ReproductionProfile profile, bool quick)
    {
        int trainCount = quick ? 2_000 : 20_000;
        IReadOnlyList<Sample> Real(string relative)
        {
            var path = Path.Combine(dataRoot, relative);
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: held-out set not found (set --data-root to the folder holding gsm8k-aug/, mult-4x4/, mult-5x5/)");
            var samples = DatasetReader.Read(path);
            return profile.RealTestSamples > 0 ? samples.Take(profile.RealTestSamples).ToList() : samples;
        }
        switch (name.ToLowerInvariant())
        {
            case "synthetic":
            {
                var train = SyntheticData.WordProblems(trainCount, DemoProfile.Problems3, seed: 1);
                var seen = train.Select(s => s.Question).ToHashSet(StringComparer.Ordinal);
                var heldOut = SyntheticData.WordProblems(profile.TestSamples * 3, DemoProfile.Problems3, seed: 2)
                    .Where(s => !seen.Contains(s.Question)).Take(profile.TestSamples).ToList();
                var tests = new Dictionary<string, IReadOnlyList<Sample>> { ["synthetic"] = heldOut };
                if (File.Exists(Path.Combine(dataRoot, "gsm8k-aug", "valid.txt"))) tests["gsm8k-aug"] = Real(Path.Combine("gsm8k-aug", "valid.txt"));
                return new ReproductionData("synthetic", train, tests);
            }
            case "mult4" or "mult-4x4":
                return new ReproductionData("mult-4x4", SyntheticData.Multiplication(trainCount, 4, 4, seed: 1),
                    new Dictionary<string, IReadOnlyList<Sample>> { ["mult-4x4"] = Real(Path.Combine("mult-4x4", "valid.txt")) });
            case "mult5" or "mult-5x5":
                return new ReproductionData("mult-5x5", SyntheticData.Multiplication(trainCount, 5, 5, seed: 1),
                    new Dictionary<string, IReadOnlyList<Sample>> { ["mult-5x5"] = Real(Path.Combine("mult-5x5", "valid.txt")) });
            case "gsm8k" or "gsm8k-aug":
                if (trainFile is null) throw new ArgumentException("--dataset gsm8k needs --train FILE (GSM8k-Aug training data is not shipped)");
                return new ReproductionData("gsm8k-aug", DatasetReader.Read(trainFile),
                    new Dictionary<string, IReadOnlyList<Sample>> { ["gsm8k-aug"] = Real(Path.Combine("gsm8k-aug", "valid.txt")) });
            default:
                throw new ArgumentException($"--dataset '{name}' is not synthetic, mult4, mult5 or gsm8k");
        }
    }

    /// <summary>Writes <paramref name="rows"/> into a results file, replacing its rows for the same training dataset's held-out sets.</summary>
    static void Merge(string path, IReadOnlyList<ResultRow> rows, string trainedOn)
    {
        var datasets = rows.Select(r => r.Dataset).ToHashSet();
        var kept = File.Exists(path) ? ResultsFile.Read(path).Where(r => !datasets.Contains(r.Dataset)).ToList() : new List<ResultRow>();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        ResultsFile.Write(path, kept.Concat(rows));
        Console.WriteLine($"wrote {rows.Count} rows ({trainedOn}) to {path}");
    }
}
