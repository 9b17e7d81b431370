using System.Diagnostics;
using CoLaR.Data;
using CoLaR.Evaluation;
using CoLaR.Models.Cli;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Text;
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
/// command is rerun, so an interrupted reproduction resumes. On the CPU every run is single-threaded, so the
/// table does not depend on the machine's core count; <see cref="Workers"/> trains several variants at once,
/// each in a child process.
/// </summary>
public sealed class Reproduce(ReproductionProfile profile, ReproductionData data, IReadOnlyList<string> methods, string outputDirectory,
    string device, TextWriter console)
{
    /// <summary>Trains in child processes, <see cref="WorkerArguments"/> telling each its one run; null: everything in this process.</summary>
    public WorkerPool? Workers { get; init; }

    /// <summary>The `colar` arguments that make a child process reproduce one method at one training seed (needed with <see cref="Workers"/>).</summary>
    public Func<string, int, IReadOnlyList<string>>? WorkerArguments { get; init; }

    /// <summary>
    /// Independent trainings of every variant (each with its own CoT). With more than one, a row's accuracy and #L
    /// are means over the trained models and their ± is the 95% interval over them (row field <c>training_seeds</c>).
    /// </summary>
    public int TrainingSeeds { get; init; } = 1;

    /// <summary>Only this training seed (a child process's one run); null: 0 .. <see cref="TrainingSeeds"/> − 1.</summary>
    public int? OnlySeed { get; init; }

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

        // Intra-op threads change float summation order; one per run keeps every number independent of the core count.
        bool cpu = Native.TorchDevices.Resolve(device).type == TorchSharp.DeviceType.CPU;
        if (cpu) TorchSharp.torch.set_num_threads(1);

        var seeds = OnlySeed is { } only ? new[] { only } : Enumerable.Range(0, TrainingSeeds).ToArray();
        if (Workers is not null)
        {
            RunInWorkers(new[] { "CoT" }, seeds, root);                       // every variant but No-CoT starts from its seed's CoT
            RunInWorkers(methods.Where(m => m != "CoT").ToList(), seeds, root);
        }
        var rows = new List<ResultRow>();
        foreach (var method in methods)
        {
            var checkpoints = seeds.Select(k => Train(method, k, root)).ToList();
            foreach (var (testName, test) in data.Tests)
            {
                var perSeed = seeds.Select((k, i) => Evaluate(method, checkpoints[i], testName, test, Path.Combine(root, Folder(method, k)))).ToList();
                rows.AddRange(perSeed.Count == 1 ? perSeed[0] : AcrossTrainingSeeds(perSeed));
            }
            console.WriteLine($"{method} done ({clock.Elapsed:hh\\:mm\\:ss} so far)");
        }
        console.WriteLine($"reproduction finished in {clock.Elapsed:hh\\:mm\\:ss}");
        return rows;
    }

    readonly Dictionary<(string Method, int Seed), string> _checkpoints = new();

    /// <summary>The final checkpoint of a method at a training seed, trained first unless it already is (asked once per run).</summary>
    string Train(string method, int seed, string root)
    {
        if (_checkpoints.TryGetValue((method, seed), out var path)) return path;
        path = method switch
        {
            "CoT" => TrainVariant("CoT", profile.CoT, init: null, root, seed),
            "NoCoT" => TrainVariant(method, profile.Variant, init: null, root, seed),
            _ => TrainVariant(method, profile.Variant, Train("CoT", seed, root), root, seed),
        };
        return _checkpoints[(method, seed)] = path;
    }

    /// <summary>Trains and evaluates every unfinished (method, seed) in child processes, the dearest first.</summary>
    void RunInWorkers(IReadOnlyList<string> chosen, IReadOnlyList<int> seeds, string root)
    {
        var arguments = WorkerArguments ?? throw new InvalidOperationException("Workers needs WorkerArguments");
        var jobs = chosen.SelectMany(m => seeds.Select(k => (Method: m, Seed: k)))
            .Where(r => !Finished(r.Method, r.Seed, root))
            .OrderByDescending(r => Cost(r.Method))
            .Select(r => new WorkerPool.Job(Label(r.Method) + (r.Seed == 0 ? "" : $" (training seed {r.Seed})"), arguments(r.Method, r.Seed),
                Path.Combine(root, Folder(r.Method, r.Seed) + ".log")))
            .ToList();
        if (jobs.Count == 0) return;
        console.WriteLine($"{jobs.Count} run{(jobs.Count == 1 ? "" : "s")} to train, {Math.Min(Workers!.Slots, jobs.Count)} at a time in child processes");
        Workers.RunAll(jobs);
    }

    /// <summary>Relative training cost, to start the longest runs first: a teacher pass or more steps cost more.</summary>
    double Cost(string method)
    {
        var spec = ModelRegistry.Get(method).Spec;
        double steps = method switch { "CoT" => profile.CoT.Steps, "NoCoT" => profile.CoT.Steps + profile.Variant.Steps, _ => profile.Variant.Steps };
        return steps * (spec.Teacher is null ? 1.0 : 1.6);
    }

    bool Finished(string method, int seed, string root) =>
        data.Tests.Keys.All(test => File.Exists(Path.Combine(root, Folder(method, seed), $"eval-{test}.json")));

    /// <summary>One row per (method, compression, held-out set): the mean over trained models and the 95% interval over them.</summary>
    static IEnumerable<ResultRow> AcrossTrainingSeeds(IReadOnlyList<IReadOnlyList<ResultRow>> perSeed) =>
        perSeed.SelectMany(rows => rows).GroupBy(r => (r.Method, r.Compression, r.Dataset)).Select(g =>
        {
            var accuracy = Statistics.MeanWithInterval(g.Select(r => r.Accuracy).ToList());
            var steps = Statistics.MeanWithInterval(g.Select(r => r.MeanSteps).ToList());
            var correct = g.Where(r => r.MeanStepsCorrect is not null).Select(r => r.MeanStepsCorrect!.Value).ToList();
            return g.First() with
            {
                Accuracy = accuracy.Mean, AccuracyCi95 = accuracy.HalfWidth, MeanSteps = steps.Mean, MeanStepsCi95 = steps.HalfWidth,
                MeanStepsCorrect = correct.Count > 0 ? correct.Average() : null, MeanStepsCorrectCi95 = null, TrainingSeeds = g.Count(),
            };
        });

    string TrainVariant(string method, SftOptions options, string? init, string root, int seed)
    {
        var entry = ModelRegistry.Get(method);
        var sft = options with { Seed = options.Seed + 100 * seed };
        var train = data.Train;
        if (method == "NoCoT") sft = sft with { Steps = profile.CoT.Steps + options.Steps, Seed = sft.Seed + 7 };
        if (entry.Spec.Curriculum is { } curriculum)
        {
            // Size the epoch so the curriculum reaches its last stage with two stages' worth of training left.
            int epochs = (curriculum.MaxStages + 2) * curriculum.EpochsPerStage;
            int samples = Math.Max(sft.BatchSize, sft.Steps * sft.BatchSize / epochs);
            train = train.Take(Math.Min(samples, train.Count)).ToList();
        }
        return new SftRun
        {
            Model = entry, Data = train, OutputDirectory = Path.Combine(root, Folder(method, seed)), Sft = sft,
            Run = new RunOptions { Device = device, Threads = 1 }, Init = init, Console = console,
            Describe = new Dictionary<string, string> { ["data"] = data.Name, ["workflow"] = "reproduce", ["profile"] = profile.Name },
        }.Execute();
    }

    IReadOnlyList<ResultRow> Evaluate(string method, string checkpoint, string testName, IReadOnlyList<Sample> test, string runDirectory)
    {
        var cache = Path.Combine(runDirectory, $"eval-{testName}.json");
        if (File.Exists(cache)) return ResultsFile.Read(cache);
        var loaded = LoadedModel.Open(checkpoint, Native.TorchDevices.Resolve(device));
        var (min, max) = loaded.Spec.CompressionRange;
        // The training data's lengths are measured once per tokenizer, not once per method and held-out set.
        if (!_longest.TryGetValue(loaded.Layout.Tokenizer.Name, out var longest))
            _longest[loaded.Layout.Tokenizer.Name] = longest = Longest(loaded.Layout, data.Train);
        var (maxSteps, maxAnswer) = InferenceCaps(loaded.Spec, longest);
        var options = new EvalOptions(Enumerable.Range(min, max - min + 1).Where(c => c is 1 or 2 or 5 || max <= 2).ToArray(), profile.EvalSeeds, BatchSize: 100,
            MaxSteps: maxSteps, MaxAnswerTokens: maxAnswer);
        var rows = Report.Evaluate(loaded, test, testName, options, console, method: Label(method));
        ResultsFile.Write(cache, rows);
        return rows;
    }

    /// <summary>
    /// The inference caps for a benchmark: the spec's own (MaxLatentSteps, MaxAnswerTokens: 64 and 16 by default), raised
    /// where the training data is longer, so no method is cut off mid-reasoning or mid-answer. 4×4 multiplication needs
    /// 81 reasoning and 18 answer tokens (EOS included) with the embedded tokenizer (digits and spaces are tokens of their own); the word
    /// problems fit the defaults, and then null keeps the spec's caps. One latent step covers at least one token, so the
    /// longest CoT bounds every method's #L.
    /// </summary>
    public static (int? MaxSteps, int? MaxAnswerTokens) InferenceCaps(ReasonerSpec spec, PromptLayout layout, IEnumerable<Sample> train) =>
        InferenceCaps(spec, Longest(layout, train));

    static (int? MaxSteps, int? MaxAnswerTokens) InferenceCaps(ReasonerSpec spec, (int Reasoning, int Answer) longest)
    {
        int steps = longest.Reasoning + 8, answerTokens = longest.Answer + 4; // margin: a model may write a little more than it was shown
        return (steps > spec.MaxLatentSteps ? steps : null, answerTokens > spec.MaxAnswerTokens ? answerTokens : null);
    }

    /// <summary>The longest CoT reasoning and the longest answer piece (### + "Answer:" + answer + EOS) of <paramref name="train"/>, in tokens.</summary>
    static (int Reasoning, int Answer) Longest(PromptLayout layout, IEnumerable<Sample> train)
    {
        int reasoning = 0, answer = 0;
        foreach (var sample in train)
        {
            var encoded = layout.Encode(sample);
            reasoning = Math.Max(reasoning, encoded.StepTokens(layout.StepSeparator).Length);
            answer = Math.Max(answer, encoded.Answer.Length);
        }
        return (reasoning, answer);
    }

    readonly Dictionary<string, (int Reasoning, int Answer)> _longest = new(StringComparer.Ordinal);

    /// <summary>"CoLaR_DL" at training seed 0 → "colar-dl"; at seed 2 → "colar-dl-seed2".</summary>
    static string Folder(string method, int seed) => method.ToLowerInvariant().Replace('_', '-') + (seed == 0 ? "" : $"-seed{seed}");

    /// <summary>"CoLaR_DL" → "CoLaR-DL", the paper's names.</summary>
    public static string Label(string method) => method.Replace('_', '-');
}
