using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoLaR.Models.Backbones;
using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Models.Bench;

/// <summary>One size a training benchmark runs at.</summary>
public sealed record TrainSize(string Name, Func<Backbone> Create, int Batch, int Length)
{
    public long Tokens => (long)Batch * Length;
    public override string ToString() => $"{Name} B={Batch} T={Length}";
}

/// <summary>The sizes and repetitions of a bench run. <see cref="Full"/> is issue 6's; <see cref="Quick"/> only checks that everything runs.</summary>
public sealed record BenchProfile(
    string Name,
    TrainSize[] Fused, int FusedWarmup, int FusedRounds,
    TrainSize[] Mfu, int MfuWarmup, int MfuRounds, int MatmulSize,
    TrainSize[] KvCache, int KvPrompt, int KvSteps, int KvRounds,
    int AnswerQuestions, int AnswerBatch, int AnswerRounds, bool UseDemoCheckpoints, int TinyTrainSteps, int TinyTrainBatch, int? AnswerMaxSteps,
    int RssFirst, int RssLast, int RssBatch)
{
    public static BenchProfile Full { get; } = new("full",
        // The first size of each list is the headline figure.
        Fused: new[]
        {
            new TrainSize("TinyLlama", () => new TinyLlama(), 32, 128),        // the demo's backbone at the demo's batch shape
            new TrainSize("BenchLlama256", () => new BenchLlama256(), 4, 1024), // long context: attention matters
        },
        FusedWarmup: 1, FusedRounds: 9,
        Mfu: new[]
        {
            new TrainSize("BenchLlama512", () => new BenchLlama512(), 16, 512),
            new TrainSize("BenchLlama256", () => new BenchLlama256(), 16, 512),
            new TrainSize("TinyLlama", () => new TinyLlama(), 32, 128),
        },
        MfuWarmup: 1, MfuRounds: 3, MatmulSize: 2048,
        KvCache: new[]
        {
            new TrainSize("BenchLlama512", () => new BenchLlama512(), 8, 0), // the bench's reference size (as for mfu)
            new TrainSize("TinyLlama", () => new TinyLlama(), 8, 0),         // the demo's: per-operator overhead dominates
        },
        KvPrompt: 32, KvSteps: 64, KvRounds: 7,
        AnswerQuestions: 64, AnswerBatch: 16, AnswerRounds: 3, UseDemoCheckpoints: true, TinyTrainSteps: 500, TinyTrainBatch: 32, AnswerMaxSteps: null,
        RssFirst: 100, RssLast: 1000, RssBatch: 32);

    public static BenchProfile Quick { get; } = new("quick",
        Fused: new[] { new TrainSize("TinyLlama", () => new TinyLlama(), 4, 32) }, FusedWarmup: 1, FusedRounds: 3,
        Mfu: new[] { new TrainSize("TinyLlama", () => new TinyLlama(), 4, 64) }, MfuWarmup: 1, MfuRounds: 3, MatmulSize: 512,
        KvCache: new[] { new TrainSize("TinyLlama", () => new TinyLlama(), 2, 0) }, KvPrompt: 8, KvSteps: 8, KvRounds: 3,
        AnswerQuestions: 8, AnswerBatch: 4, AnswerRounds: 1, UseDemoCheckpoints: false, TinyTrainSteps: 10, TinyTrainBatch: 4, AnswerMaxSteps: 8,
        RssFirst: 5, RssLast: 30, RssBatch: 4);
}

/// <summary>
/// `colar bench`: the figures of issue 6, each a ratio of medians measured side by side in one run, a
/// printed table, and DIR/bench.json.
/// </summary>
public sealed class Benchmark(BenchProfile profile, string outputDirectory, string? cotCheckpoint, string? colarCheckpoint, TextWriter console)
{
    /// <summary>The figures, their targets, and whether a larger value is better.</summary>
    public static readonly (string Key, double Target, bool AtLeast)[] Figures =
    {
        ("fused_speedup", 1.5, true),
        ("mfu", 0.40, true),
        ("kv_cache_speedup", 5, true),
        ("colar5_cot_time_ratio", 0.35, false),
        ("rss_growth", 0.05, false),
    };

    readonly JsonObject _json = new();
    readonly JsonObject _details = new();

    /// <summary>Sections that run (all by default); `--only` narrows it while developing.</summary>
    public IReadOnlySet<string>? Only { get; init; }

    public JsonObject Run()
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(outputDirectory);
        Native.TorchDevices.Resolve("cpu");
        torch.manual_seed(1);
        console.WriteLine($"colar bench ({profile.Name} profile), {Environment.ProcessorCount} CPUs, {torch.get_num_threads()} torch threads → {Path.GetFullPath(outputDirectory)}");

        // rss first: the process then holds nothing the other sections allocated and glibc kept.
        Section("rss", () => RssSection.Run(profile, _json, _details, console));
        Section("fused", () => TrainingSections.Fused(profile, _json, _details, console));
        Section("mfu", () => TrainingSections.Mfu(profile, _json, _details, console));
        Section("kv", () => DecodingSections.KvCache(profile, _json, _details, console));
        Section("answer", () => DecodingSections.AnswerTime(profile, outputDirectory, cotCheckpoint, colarCheckpoint, _json, _details, console));
        // Not part of a normal run: training steps to profile under `perf record` (docs/performance.md).
        if (Only is not null && Only.Contains("profile")) Section("profile", () => TrainingSections.Profile(profile, console));

        _json["profile"] = profile.Name;
        _json["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        _json["machine"] = Machine();
        _json["details"] = _details;
        var path = Path.Combine(outputDirectory, "bench.json");
        File.WriteAllText(path, _json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        console.WriteLine();
        console.WriteLine(Table(_json));
        console.WriteLine($"bench finished in {clock.Elapsed:mm\\:ss} → {path}");
        return _json;
    }

    void Section(string name, Action action)
    {
        if (Only is not null && !Only.Contains(name)) return;
        var clock = Stopwatch.StartNew();
        console.WriteLine();
        console.WriteLine($"== {name}");
        action();
        Measure.Collect();
        console.WriteLine($"   ({clock.Elapsed.TotalSeconds:F0} s)");
    }

    /// <summary>The table: figure, value, target, met?</summary>
    public static string Table(JsonObject json)
    {
        var lines = new List<string> { "| figure | value | target | met? |", "|---|---|---|---|" };
        foreach (var (key, target, atLeast) in Figures)
        {
            if (json[key] is not JsonValue v) continue;
            double value = v.GetValue<double>();
            bool met = atLeast ? value >= target : value <= target;
            lines.Add($"| {key} | {Format(value)} | {(atLeast ? "≥" : "≤")} {Format(target)} | {(met ? "yes" : "no")} |");
        }
        return string.Join(Environment.NewLine, lines);
    }

    static string Format(double v) => v.ToString(Math.Abs(v) >= 10 ? "F1" : "F3", CultureInfo.InvariantCulture);

    static JsonObject Machine()
    {
        string cpu = "unknown";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        double load = double.NaN;
        try { load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (IOException) { }
        return new JsonObject
        {
            ["cpu"] = cpu,
            ["logical_cpus"] = Environment.ProcessorCount,
            ["torch_threads"] = torch.get_num_threads(),
            ["openmp_wait"] = Native.NativeDefaults.OpenMpWait,
            ["malloc"] = Native.NativeDefaults.Malloc,
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["dotnet"] = Environment.Version.ToString(),
            ["torchsharp"] = typeof(torch).Assembly.GetName().Version?.ToString(),
            ["load_average_1min_at_end"] = double.IsNaN(load) ? null : load,
        };
    }

    /// <summary>Rounds for JSON: 4 significant digits.</summary>
    internal static double R(double v) => double.IsFinite(v) ? double.Parse(v.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : v;

    internal static JsonArray Array(IEnumerable<double> values) => new(values.Select(v => (JsonNode?)R(v)).ToArray());
}
