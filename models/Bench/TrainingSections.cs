using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;
using static CoLaR.Models.Bench.Benchmark;

namespace CoLaR.Models.Bench;

/// <summary>fused_speedup and mfu: training steps of generated backbones.</summary>
public static class TrainingSections
{
    /// <summary>
    /// The generated backbone against <see cref="UnfusedLlama"/> with the same weights on the same
    /// right-padded batch: first proof that both compute the same loss and gradients, then interleaved
    /// timed steps, then one untimed step each for the native memory peak.
    /// </summary>
    public static void Fused(BenchProfile p, JsonObject json, JsonObject details, TextWriter console)
    {
        var sizes = new JsonArray();
        foreach (var size in p.Fused)
        {
            var result = Fused(p, size, console, naiveLoop: ReferenceEquals(size, p.Fused[0]));
            if (ReferenceEquals(size, p.Fused[0])) json["fused_speedup"] = result["fused_speedup"]!.GetValue<double>();
            sizes.Add(result);
        }
        details["fused"] = new JsonObject
        {
            ["headline"] = p.Fused[0].ToString(),
            ["peak_memory_note"] = "native bytes in use (glibc mallinfo2, sampled every ~1 ms) at the peak of one untimed step, above the level before it: activations, gradients and temporaries; weights and optimizer state excluded",
            ["baseline"] = "UnfusedLlama: separate q/k/v and gate/up Linear, matmul-softmax-matmul attention with an additive mask, repeat_interleave for grouped heads; no dispose scope and no using (temporaries wait for the GC); both sides get GC.Collect() between timed steps, outside the timed region",
            ["sizes"] = sizes,
        };
    }

    static JsonObject Fused(BenchProfile p, TrainSize size, TextWriter console, bool naiveLoop)
    {
        torch.manual_seed(11);
        var fusedModel = size.Create();
        var config = fusedModel.Config;
        var unfusedModel = new UnfusedLlama(config);
        unfusedModel.CopyFrom(fusedModel);
        var fused = new FusedTrainable(fusedModel);
        var unfused = new UnfusedTrainable(unfusedModel);
        using var batch = LmBatch.Random(config.Vocab, size.Batch, size.Length, padded: true, seed: 3);
        using var second = LmBatch.Random(config.Vocab, size.Batch, size.Length, padded: true, seed: 4);

        // Same math: equal loss and gradient norm, and still equal after one AdamW step on each.
        var (lossF, normF) = fused.LossAndGradNorm(batch);
        var (lossU, normU) = unfused.LossAndGradNorm(batch);
        fused.Step(batch);
        unfused.Step(batch);
        var (lossF2, _) = fused.LossAndGradNorm(second);
        var (lossU2, _) = unfused.LossAndGradNorm(second);
        double lossDiff = Math.Max(Rel(lossF, lossU), Rel(lossF2, lossU2)), normDiff = Rel(normF, normU);
        console.WriteLine($"   same math: loss {lossF:F6} vs {lossU:F6}, grad norm {normF:F6} vs {normU:F6}, after a step {lossF2:F6} vs {lossU2:F6}");
        if (lossDiff > 1e-4 || normDiff > 1e-3)
            throw new InvalidOperationException($"the unfused baseline does not compute what the generated backbone does (relative loss difference {lossDiff:G3}, gradient norm {normDiff:G3})");
        Measure.Collect();

        console.WriteLine($"   timing {size} ({size.Tokens} tokens/step, {p.FusedWarmup} warm-up + {p.FusedRounds} interleaved rounds)");
        var stepsF = new List<StepTimes>();
        var stepsU = new List<StepTimes>();
        var samples = Measure.Interleaved(p.FusedWarmup, p.FusedRounds,
            new Measure.Case("fused", () => { var t = fused.Step(batch); stepsF.Add(t); Measure.Collect(); return t.Total; }),
            new Measure.Case("unfused", () => { var t = unfused.Step(batch); stepsU.Add(t); Measure.Collect(); return t.Total; }));
        double f = Measure.Median(samples["fused"]), u = Measure.Median(samples["unfused"]);

        Measure.Collect();
        double peakF = Memory.PeakMallocDuring(() => fused.Step(batch));
        Measure.Collect();
        double peakU = Memory.PeakMallocDuring(() => unfused.Step(batch));
        Measure.Collect();

        console.WriteLine($"   fused {f * 1e3:F1} ms, unfused {u * 1e3:F1} ms → fused_speedup {u / f:F2}; peak step memory fused {peakF / 1e6:F0} MB, unfused {peakU / 1e6:F0} MB");

        // The baseline as a naive loop really runs it: nothing collects between steps, so every step's
        // temporaries stay alive (their native memory too) until the GC happens to run. Three rounds,
        // interleaved with the fused step; reported beside the headline, which gives the baseline a free
        // collection instead.
        JsonObject? naive = null;
        if (naiveLoop)
        {
            Measure.Collect();
            double heldBefore = Memory.MallocInUse();
            var loop = Measure.Interleaved(0, 3,
                new Measure.Case("fused", () => fused.Step(batch).Total),
                new Measure.Case("unfused", () => unfused.Step(batch).Total));
            double grown = Memory.MallocInUse() - heldBefore;
            Measure.Collect();
            double lf = Measure.Median(loop["fused"]), lu = Measure.Median(loop["unfused"]);
            naive = new JsonObject
            {
                ["fused_step_s"] = R(lf),
                ["unfused_step_s"] = R(lu),
                ["speedup"] = R(lu / lf),
                ["native_memory_held_after_3_steps_mb"] = R(grown / 1e6),
            };
            console.WriteLine($"   without collections between steps: fused {lf * 1e3:F1} ms, unfused {lu * 1e3:F1} ms ({lu / lf:F2}×); {grown / 1e6:F0} MB of native memory still held after 3 steps");
        }
        fusedModel.Dispose();
        unfusedModel.Dispose();
        return new JsonObject
        {
            ["naive_loop_without_collection"] = naive,
            ["size"] = size.ToString(),
            ["fused_speedup"] = R(u / f),
            ["tokens_per_step"] = size.Tokens,
            ["fused_step_s"] = R(f),
            ["unfused_step_s"] = R(u),
            ["per_round_ratio_median"] = R(Measure.MedianRatio(samples["unfused"], samples["fused"])),
            ["fused_samples_s"] = Array(samples["fused"]),
            ["unfused_samples_s"] = Array(samples["unfused"]),
            ["fused_phases_s"] = Phases(stepsF.Skip(p.FusedWarmup)),
            ["unfused_phases_s"] = Phases(stepsU.Skip(p.FusedWarmup)),
            ["fused_peak_step_memory_mb"] = R(peakF / 1e6),
            ["unfused_peak_step_memory_mb"] = R(peakU / 1e6),
            ["equivalence"] = new JsonObject { ["loss_fused"] = lossF, ["loss_unfused"] = lossU, ["grad_norm_fused"] = normF, ["grad_norm_unfused"] = normU, ["loss_after_step_fused"] = lossF2, ["loss_after_step_unfused"] = lossU2 },
        };
    }

    /// <summary>
    /// Model FLOP/s of a training step (3 × the analytic forward FLOPs) over the FLOP/s of libtorch's own
    /// large fp32 matmul, the two measured in alternation.
    /// </summary>
    public static void Mfu(BenchProfile p, JsonObject json, JsonObject details, TextWriter console)
    {
        int n = p.MatmulSize;
        using var a = torch.randn(n, n);
        using var b = torch.randn(n, n);
        double matmulFlops = 2.0 * n * n * n;
        int reps = Math.Max(1, (int)Math.Round(4 * Math.Pow(2048.0 / n, 3)));
        var perSize = new JsonArray();
        foreach (var size in p.Mfu)
        {
            torch.manual_seed(12);
            var model = size.Create();
            var trainable = new FusedTrainable(model);
            using var batch = LmBatch.Random(model.Config.Vocab, size.Batch, size.Length, padded: false, seed: 5);
            double stepFlops = 3 * model.Config.ForwardFlopsPerToken(size.Length) * size.Tokens;
            var steps = new List<StepTimes>();
            var samples = Measure.Interleaved(p.MfuWarmup, p.MfuRounds,
                new Measure.Case("step", () => { Measure.Collect(); var t = trainable.Step(batch); steps.Add(t); return t.Total; }),
                new Measure.Case("matmul", () => Measure.Time(() =>
                {
                    for (int i = 0; i < reps; i++) { using var c = a.mm(b); }
                }) / reps));
            double step = Measure.Median(samples["step"]), mm = Measure.Median(samples["matmul"]);
            double achieved = stepFlops / step, peak = matmulFlops / mm, mfu = achieved / peak;
            var phases = Phases(steps.Skip(p.MfuWarmup));
            perSize.Add(new JsonObject
            {
                ["size"] = size.ToString(),
                ["parameters"] = model.Config.ParameterCount,
                ["tokens_per_step"] = size.Tokens,
                ["step_gflop"] = R(stepFlops / 1e9),
                ["step_s"] = R(step),
                ["achieved_gflops"] = R(achieved / 1e9),
                ["matmul_gflops"] = R(peak / 1e9),
                ["mfu"] = R(mfu),
                ["phases_s"] = phases,
                ["step_samples_s"] = Array(samples["step"]),
                ["matmul_samples_s"] = Array(samples["matmul"]),
            });
            console.WriteLine($"   {size}: {stepFlops / 1e9:F0} GFLOP/step in {step:F2} s = {achieved / 1e9:F0} GFLOP/s; {n}² matmul {peak / 1e9:F0} GFLOP/s → MFU {mfu:F3}");
            if (ReferenceEquals(size, p.Mfu[0])) json["mfu"] = R(mfu);
            model.Dispose();
            Measure.Collect();
        }
        details["mfu"] = new JsonObject
        {
            ["flops"] = "3 × BackboneConfig.ForwardFlopsPerToken(T) × tokens: every matmul (projections, MLP, LM head over all positions) plus causal attention (QKᵀ and PV over T/2 keys on average)",
            ["matmul"] = $"{n}×{n} fp32 torch.mm, median of per-matmul time",
            ["sizes"] = perSize,
        };
    }

    /// <summary>Training steps of the MFU size and nothing else, for an external profiler (`perf record`).</summary>
    public static void Profile(BenchProfile p, TextWriter console)
    {
        var size = p.Mfu[int.TryParse(Environment.GetEnvironmentVariable("COLAR_BENCH_PROFILE_SIZE"), out var which) ? which : 0];
        int steps = int.TryParse(Environment.GetEnvironmentVariable("COLAR_BENCH_PROFILE_STEPS"), out var n) ? n : 3;
        torch.manual_seed(12);
        var model = size.Create();
        Trainable trainable = Environment.GetEnvironmentVariable("COLAR_BENCH_PROFILE_UNFUSED") == "1"
            ? new UnfusedTrainable(new UnfusedLlama(model.Config)) : new FusedTrainable(model);
        if (Environment.GetEnvironmentVariable("COLAR_BENCH_PROFILE_BATCH") is { } pb) size = size with { Batch = int.Parse(pb) };
        using var batch = LmBatch.Random(model.Config.Vocab, size.Batch, size.Length, padded: false, seed: 5);
        trainable.Step(batch);
        for (int i = 0; i < steps; i++)
        {
            var t = trainable.Step(batch);
            console.WriteLine($"   {size}: step {t.Total:F2} s (forward {t.Forward:F2}, backward {t.Backward:F2}, clip + AdamW {t.Optimizer:F2})");
        }
    }

    static JsonObject Phases(IEnumerable<StepTimes> steps)
    {
        var list = steps.ToList();
        return new JsonObject
        {
            ["forward"] = R(Measure.Median(list.Select(s => s.Forward).ToArray())),
            ["backward"] = R(Measure.Median(list.Select(s => s.Backward).ToArray())),
            ["clip_and_adamw"] = R(Measure.Median(list.Select(s => s.Optimizer).ToArray())),
        };
    }

    static double Rel(double a, double b) => Math.Abs(a - b) / Math.Max(1e-12, Math.Max(Math.Abs(a), Math.Abs(b)));
}
