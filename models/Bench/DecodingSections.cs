using System.Text.Json.Nodes;
using CoLaR.Data;
using CoLaR.Evaluation;
using CoLaR.Inference;
using CoLaR.Models.Workflows;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Text;
using CoLaR.Training;
using TorchSharp;
using static TorchSharp.torch;
using static CoLaR.Models.Bench.Benchmark;

namespace CoLaR.Models.Bench;

/// <summary>kv_cache_speedup and colar5_cot_time_ratio: decoding.</summary>
public static class DecodingSections
{
    /// <summary>
    /// N incremental decoding steps over the KV cache (the runtime's DecodeState, prefill included)
    /// against recomputing the whole prefix at every step. Both are fed the same continuation tokens,
    /// so their logits at every step must agree, which is checked before timing.
    /// </summary>
    public static void KvCache(BenchProfile p, JsonObject json, JsonObject details, TextWriter console)
    {
        var sizes = new JsonArray();
        foreach (var size in p.KvCache)
        {
            var result = KvCache(p, size, console);
            if (ReferenceEquals(size, p.KvCache[0])) json["kv_cache_speedup"] = result["kv_cache_speedup"]!.GetValue<double>();
            sizes.Add(result);
        }
        details["kv_cache"] = new JsonObject { ["headline"] = p.KvCache[0].Name, ["sizes"] = sizes };
    }

    static JsonObject KvCache(BenchProfile p, TrainSize size, TextWriter console)
    {
        console.WriteLine($"   {size.Name}, batch {size.Batch}:");
        torch.manual_seed(13);
        var model = size.Create();
        model.eval();
        int vocab = model.Config.Vocab, steps = p.KvSteps;
        var random = new Random(6);
        var rows = Enumerable.Range(0, size.Batch)
            .Select(_ => Enumerable.Range(0, random.Next(p.KvPrompt / 2, p.KvPrompt + 1)).Select(_ => random.Next(1, vocab)).ToArray()).ToList();
        var (ids, mask) = Batching.Pad(rows, 0, left: true, torch.CPU);
        var continuation = torch.randint(1, vocab, new long[] { size.Batch, steps }, dtype: ScalarType.Int64);
        ids.DetachFromDisposeScope(); mask.DetachFromDisposeScope(); continuation.DetachFromDisposeScope();

        // Each returns the logits of every step [steps, B, V] when asked to keep them.
        Tensor? Cached(bool keep)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var kept = new List<Tensor>();
            using var state = new DecodeState(model, ids, mask, out var last);
            var all = torch.ones(size.Batch, dtype: ScalarType.Bool);
            for (int s = 0; s < steps; s++)
            {
                using var step = torch.NewDisposeScope();
                var logits = model.Logits(last);
                logits.argmax(-1).data<long>().ToArray(); // what greedy decoding reads back each step
                if (keep) kept.Add(logits.MoveToOuterDisposeScope());
                if (s + 1 < steps) last = state.StepTokens(continuation.select(1, s), all).MoveToOuterDisposeScope();
            }
            return keep ? torch.stack(kept).MoveToOuterDisposeScope() : null;
        }

        Tensor? Recomputed(bool keep)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var kept = new List<Tensor>();
            var sequence = ids;
            var sequenceMask = mask;
            for (int s = 0; s < steps; s++)
            {
                using var step = torch.NewDisposeScope();
                var hidden = model.Forward(model.Embed(sequence), sequenceMask, AttentionOps.PositionIds(sequenceMask));
                var logits = model.Logits(hidden.select(1, hidden.shape[1] - 1));
                logits.argmax(-1).data<long>().ToArray();
                if (keep) kept.Add(logits.MoveToOuterDisposeScope());
                if (s + 1 < steps)
                {
                    sequence = torch.cat(new[] { sequence, continuation.narrow(1, s, 1) }, 1).MoveToOuterDisposeScope();
                    sequenceMask = torch.cat(new[] { sequenceMask, torch.ones(size.Batch, 1, dtype: ScalarType.Int64) }, 1).MoveToOuterDisposeScope();
                }
            }
            return keep ? torch.stack(kept).MoveToOuterDisposeScope() : null;
        }

        double maxDiff;
        using (var a = Cached(keep: true)!)
        using (var b = Recomputed(keep: true)!)
            maxDiff = (a - b).abs().max().ToDouble();
        console.WriteLine($"   same logits with and without the cache: max |Δ| = {maxDiff:G3} over {steps} steps");
        if (!(maxDiff < 1e-3)) throw new InvalidOperationException($"KV-cache decoding differs from recomputation (max |Δlogit| {maxDiff:G3})");

        var samples = Measure.Interleaved(1, p.KvRounds,
            new Measure.Case("cached", () => Measure.Time(() => Cached(keep: false))),
            new Measure.Case("recomputed", () => Measure.Time(() => Recomputed(keep: false))));
        double c = Measure.Median(samples["cached"]), r = Measure.Median(samples["recomputed"]);
        var result = new JsonObject
        {
            ["kv_cache_speedup"] = R(r / c),
            ["size"] = $"{size.Name} B={size.Batch}, prompts {p.KvPrompt / 2}..{p.KvPrompt} tokens (left-padded), {steps} steps",
            ["cached_s"] = R(c),
            ["recomputed_s"] = R(r),
            ["cached_ms_per_step"] = R(c / steps * 1e3),
            ["recomputed_ms_per_step"] = R(r / steps * 1e3),
            ["max_logit_difference"] = R(maxDiff),
            ["cached_samples_s"] = Array(samples["cached"]),
            ["recomputed_samples_s"] = Array(samples["recomputed"]),
        };
        console.WriteLine($"   {steps} steps: cached {c * 1e3:F0} ms, recomputed {r * 1e3:F0} ms → kv_cache_speedup {r / c:F2}");
        ids.Dispose(); mask.Dispose(); continuation.Dispose();
        model.Dispose();
        return result;
    }

    /// <summary>
    /// End-to-end answer time per question, CoLaR at c = 5 against CoT, same backbone size, same questions,
    /// same batch size (whole Generate calls, interleaved); then the cost of one latent step against one
    /// CoT token step on the same decode state.
    /// </summary>
    public static void AnswerTime(BenchProfile p, string outputDirectory, string? cotPath, string? colarPath, JsonObject json, JsonObject details, TextWriter console)
    {
        var (cot, colar, source) = Models(p, outputDirectory, cotPath, colarPath, console);
        if (cot.Model.Backbone.Config != colar.Model.Backbone.Config)
            throw new ArgumentException($"--cot and --colar must share a backbone size ({cot.Model.Backbone.Config.Name} vs {colar.Model.Backbone.Config.Name})");
        var questions = SyntheticData.WordProblems(p.AnswerQuestions, DemoProfile.Problems3, seed: 7);
        var encoded = questions.Select(cot.Layout.Encode).ToList();
        var batches = encoded.Chunk(p.AnswerBatch).ToList();

        var last = new Dictionary<string, (double Steps, double Accuracy, double BatchMaxSteps, double AnswerTokens)>();
        double Answer(LoadedModel m, string name, int compression)
        {
            int seed = 0;
            double steps = 0, correct = 0, batchMax = 0, answerTokens = 0;
            var time = Measure.Time(() =>
            {
                foreach (var batch in batches)
                {
                    using var generator = new Generator((ulong)(1000 + seed++));
                    var result = m.Model.Generate(new GenerationRequest(batch, m.Layout, torch.CPU, compression, LatentTemperature: 1.0,
                        Generator: generator, MaxSteps: p.AnswerMaxSteps));
                    batchMax += result.Answers.Max(a => a.Steps);
                    for (int i = 0; i < batch.Length; i++)
                    {
                        answerTokens += m.Layout.Tokenizer.Encode(result.Answers[i].AnswerText).Count() + 1;
                        steps += result.Answers[i].Steps;
                        if (AnswerMatcher.IsCorrect(result.Answers[i], batch[i].Source.Answer)) correct++;
                    }
                }
            });
            last[name] = (steps / encoded.Count, correct / encoded.Count, batchMax / batches.Count, answerTokens / encoded.Count);
            return time / encoded.Count;
        }

        var samples = Measure.Interleaved(1, p.AnswerRounds,
            new Measure.Case("cot", () => Answer(cot, "cot", 1)),
            new Measure.Case("colar5", () => Answer(colar, "colar5", 5)));
        double tc = Measure.Median(samples["cot"]), tl = Measure.Median(samples["colar5"]);
        json["colar5_cot_time_ratio"] = R(tl / tc);

        var (latentStep, tokenStep, latentTensors, tokenTensors) = StepCosts(p, cot, colar, batches[0]);
        details["answer_time"] = new JsonObject
        {
            ["models"] = source,
            ["backbone"] = cot.Model.Backbone.Config.Name,
            ["questions"] = encoded.Count,
            ["batch_size"] = p.AnswerBatch,
            ["cot_s_per_question"] = R(tc),
            ["colar5_s_per_question"] = R(tl),
            ["cot_mean_reasoning_tokens"] = R(last["cot"].Steps),
            ["colar5_mean_latent_steps"] = R(last["colar5"].Steps),
            ["steps_ratio"] = R(last["colar5"].Steps / last["cot"].Steps),
            ["cot_mean_batch_max_tokens"] = R(last["cot"].BatchMaxSteps),
            ["colar5_mean_batch_max_steps"] = R(last["colar5"].BatchMaxSteps),
            ["cot_mean_answer_tokens"] = R(last["cot"].AnswerTokens),
            ["colar5_mean_answer_tokens"] = R(last["colar5"].AnswerTokens),
            ["cot_accuracy"] = R(last["cot"].Accuracy),
            ["colar5_accuracy"] = R(last["colar5"].Accuracy),
            ["latent_step_ms"] = R(latentStep * 1e3),
            ["cot_token_step_ms"] = R(tokenStep * 1e3),
            ["latent_step_over_token_step"] = R(latentStep / tokenStep),
            ["latent_step_tensors"] = R(latentTensors),
            ["cot_token_step_tensors"] = R(tokenTensors),
            ["cot_samples_s"] = Array(samples["cot"]),
            ["colar5_samples_s"] = Array(samples["colar5"]),
        };
        console.WriteLine($"   per question: CoT {tc * 1e3:F1} ms (#L {last["cot"].Steps:F1}), CoLaR c=5 {tl * 1e3:F1} ms (#L {last["colar5"].Steps:F1}) → colar5_cot_time_ratio {tl / tc:F3}");
        console.WriteLine($"   one step at batch {p.AnswerBatch}: latent {latentStep * 1e3:F2} ms ({latentTensors:F0} tensors), CoT token {tokenStep * 1e3:F2} ms ({tokenTensors:F0} tensors): {latentStep / tokenStep:F2}×");
        cot.Model.Dispose();
        colar.Model.Dispose();
    }

    /// <summary>Seconds per decoding step: a CoLaR latent step (head, sample, backbone step, stop check) and a CoT token step (LM head, argmax read back, backbone step), interleaved on one batch.</summary>
    static (double Latent, double Token, double LatentTensors, double TokenTensors) StepCosts(BenchProfile p, LoadedModel cot, LoadedModel colar, EncodedSample[] batch)
    {
        var created = new Dictionary<bool, double>();
        const int Steps = 16;
        double embedsStd = colar.Model.EnsureEmbedsStd();
        var layout = colar.Layout;

        double Run(LoadedModel m, bool latent)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var prompts = batch.Select(s => layout.Prompt(s, latent ? 5 : null, withSpeed: latent)).ToList();
            var (ids, mask) = Batching.Pad(prompts, layout.PadId, left: true, torch.CPU);
            using var state = new DecodeState(m.Model.Backbone, ids, mask, out var last);
            var all = torch.ones(batch.Length, dtype: ScalarType.Bool);
            using var generator = new Generator(5);
            long tensorsBefore = Tensors();
            double seconds = Measure.Time(() =>
            {
                for (int s = 0; s < Steps; s++)
                {
                    using var step = torch.NewDisposeScope();
                    if (latent)
                    {
                        var z = m.Model.PredictLatent(last).Rsample(1.0, generator) * embedsStd;
                        var next = state.Step(z, all);
                        LatentInference.IsThink(m.Model.Backbone, next, layout.ThinkId).all().item<bool>();
                        last = next.MoveToOuterDisposeScope();
                    }
                    else
                    {
                        var picked = m.Model.Backbone.Logits(last).argmax(-1).data<long>().ToArray();
                        last = state.StepTokens(torch.tensor(picked), all).MoveToOuterDisposeScope();
                    }
                }
            });
            created[latent] = (double)(Tensors() - tensorsBefore) / Steps;
            return seconds / Steps;
        }

        var samples = Measure.Interleaved(1, Math.Max(3, p.AnswerRounds * 2),
            new Measure.Case("latent", () => Run(colar, latent: true)),
            new Measure.Case("token", () => Run(cot, latent: false)));
        return (Measure.Median(samples["latent"]), Measure.Median(samples["token"]), created[true], created[false]);
    }

    /// <summary>Tensors TorchSharp has created so far: one per native op result or view, a machine-independent measure of per-step overhead.</summary>
    internal static long Tensors() => DisposeScopeManager.Statistics.CreatedInScopeCount + DisposeScopeManager.Statistics.CreatedOutsideScopeCount;

    /// <summary>The CoT and CoLaR models: given, the demo's, or trained here on synthetic word problems.</summary>
    static (LoadedModel Cot, LoadedModel Colar, string Source) Models(BenchProfile p, string outputDirectory, string? cotPath, string? colarPath, TextWriter console)
    {
        if ((cotPath is null) != (colarPath is null))
            throw new ArgumentException("give both --cot and --colar, or neither");
        if (cotPath is null && p.UseDemoCheckpoints)
        {
            var demo = Path.Combine("out", "demo", "checkpoints");
            if (File.Exists(Path.Combine(demo, "cot.safetensors")) && File.Exists(Path.Combine(demo, "colar.safetensors")))
                (cotPath, colarPath) = (Path.Combine(demo, "cot.safetensors"), Path.Combine(demo, "colar.safetensors"));
        }
        string source;
        if (cotPath is not null)
        {
            source = $"checkpoints {cotPath} and {colarPath}";
        }
        else
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var data = SyntheticData.WordProblems(Math.Max(1000, p.TinyTrainSteps * p.TinyTrainBatch), DemoProfile.Problems3, seed: 1);
            var dir = Path.Combine(outputDirectory, "models");
            string Train(string name, string? init, int seed) => new SftRun
            {
                Model = ModelRegistry.Get(name), Data = data, OutputDirectory = Path.Combine(dir, name.ToLowerInvariant()),
                Sft = new SftOptions { Steps = p.TinyTrainSteps, BatchSize = p.TinyTrainBatch, LearningRate = 1e-3, WarmupSteps = Math.Min(50, p.TinyTrainSteps / 5), CheckpointEvery = p.TinyTrainSteps, Seed = seed },
                Init = init, Console = TextWriter.Null, ProgressMode = ProgressMode.Silent,
                Describe = new Dictionary<string, string> { ["data"] = "synthetic word problems (bench)" },
            }.Execute();
            cotPath = Train(Demo.CoTModel, null, 1);
            colarPath = Train(Demo.CoLaRModel, cotPath, 2);
            source = $"no checkpoints given{(p.UseDemoCheckpoints ? " and none in out/demo/checkpoints" : "")}: CoT then CoLaR trained here on synthetic word problems, {p.TinyTrainSteps} steps each (batch {p.TinyTrainBatch}), in {clock.Elapsed.TotalSeconds:F0} s → {dir}";
        }
        console.WriteLine($"   models: {source}");
        return (LoadedModel.Open(cotPath, torch.CPU), LoadedModel.Open(colarPath!, torch.CPU), source);
    }
}
