using System.Text.Json.Nodes;
using CoLaR.Data;
using CoLaR.Models.Workflows;
using CoLaR.Modules;
using CoLaR.Text;
using CoLaR.Training;
using TorchSharp;
using static CoLaR.Models.Bench.Benchmark;

namespace CoLaR.Models.Bench;

/// <summary>rss_growth: the process's resident memory after the last training step relative to after the first ones.</summary>
public static class RssSection
{
    /// <summary>
    /// The product's own training loop (<see cref="SftTrainer"/>, CoT on TinyLlama, synthetic word
    /// problems) for <see cref="BenchProfile.RssLast"/> steps; VmRSS read right after step
    /// <see cref="BenchProfile.RssFirst"/> and after the last. Runs first in the bench, so the process
    /// holds nothing else yet.
    /// </summary>
    public static void Run(BenchProfile p, JsonObject json, JsonObject details, TextWriter console)
    {
        var layout = new PromptLayout(Tokenizers.For(Tokenizers.Embedded, null));
        var data = SyntheticData.WordProblems(Math.Max(1000, p.RssLast * p.RssBatch / 4), DemoProfile.Problems3, seed: 1)
            .Select(layout.Encode).ToList();
        torch.manual_seed(14);
        var model = ModelRegistry.Get(Demo.CoTModel).Create();
        var trainer = new SftTrainer(model, data, layout,
            new SftOptions { Steps = p.RssLast, BatchSize = p.RssBatch, LearningRate = 1e-3, WarmupSteps = 10, Seed = 3 }, torch.CPU);
        double first = double.NaN, lastRss = double.NaN;
        var trace = new JsonArray();
        int every = Math.Max(1, p.RssLast / 20);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        trainer.StepCompleted = r =>
        {
            if (r.Step == p.RssFirst) first = Memory.Rss();
            if (r.Step == p.RssLast) lastRss = Memory.Rss();
            if (r.Step % every == 0 || r.Step == p.RssFirst)
                trace.Add(new JsonObject { ["step"] = r.Step, ["rss_mb"] = R(Memory.Rss() / 1e6), ["rss_anon_mb"] = R(Memory.RssAnon() / 1e6), ["rss_file_mb"] = R(Memory.RssFile() / 1e6), ["malloc_in_use_mb"] = R(Memory.MallocInUse() / 1e6), ["gc_committed_mb"] = R(GC.GetGCMemoryInfo().TotalCommittedBytes / 1e6), ["arena_mb"] = R(Memory.MallocHeaps().Arena / 1e6), ["arena_free_mb"] = R(Memory.MallocHeaps().Free / 1e6), ["mmapped_mb"] = R(Memory.MallocHeaps().Mmapped / 1e6) });
        };
        trainer.Run();
        double growth = (lastRss - first) / first;
        json["rss_growth"] = R(growth);
        details["rss"] = new JsonObject
        {
            ["loop"] = $"SftTrainer, CoT on TinyLlama, batch {p.RssBatch}, {p.RssLast} steps in {clock.Elapsed.TotalSeconds:F0} s",
            ["rss_after_first_mb"] = R(first / 1e6),
            ["rss_after_last_mb"] = R(lastRss / 1e6),
            ["first_step"] = p.RssFirst,
            ["last_step"] = p.RssLast,
            ["trace"] = trace,
        };
        console.WriteLine($"   VmRSS after step {p.RssFirst}: {first / 1e6:F0} MB, after step {p.RssLast}: {lastRss / 1e6:F0} MB → rss_growth {growth:F3}");
        model.Dispose();
    }
}
