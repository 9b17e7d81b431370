using CoLaR.Inference;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Text;
using CoLaR.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Evaluation;

/// <summary>How to evaluate.</summary>
/// <param name="Compressions">Speeds to prompt (ignored, as 1, for methods without compression).</param>
/// <param name="Seeds">Repetitions with different random streams (latent sampling, top-p answers).</param>
/// <param name="BatchSize">Questions answered together.</param>
/// <param name="Decoding">Answer decoding (greedy by default).</param>
/// <param name="LatentTemperature">Scale of the latent head's std when sampling latents (1: as trained; 0: the mean).</param>
/// <param name="Seed">Base seed; seed i uses a stream derived from (Seed, i).</param>
/// <param name="MaxSteps">A reasoning budget: at most this many latent (or CoT) steps per question (null: the model's own cap).</param>
/// <param name="MaxAnswerTokens">At most this many answer tokens, EOS included (null: the model's own cap).</param>
public sealed record EvalOptions(
    IReadOnlyList<int> Compressions,
    int Seeds = 3,
    int BatchSize = 128,
    AnswerDecoding? Decoding = null,
    double LatentTemperature = 1.0,
    int Seed = 0,
    int? MaxSteps = null,
    int? MaxAnswerTokens = null);

/// <summary>Runs a model over a test set at each compression and seed, scoring with <see cref="AnswerMatcher"/>.</summary>
public static class Evaluator
{
    /// <summary>One <see cref="ResultRow"/> per compression (one row at c = 1 for methods without compression).</summary>
    public static IReadOnlyList<ResultRow> Run(ReasonerModule model, PromptLayout layout, IReadOnlyList<EncodedSample> data,
        string method, string dataset, EvalOptions options, Device device, Progress? progress = null)
    {
        if (data.Count == 0) throw new ArgumentException($"the test set '{dataset}' is empty");
        var compressions = model.Specification.Method == ReasoningMethod.CompressedLatent ? options.Compressions : new[] { 1 };
        var rows = new List<ResultRow>();
        model.eval();
        foreach (int c in compressions)
        {
            var seeds = new List<SeedMeasurement>();
            for (int s = 0; s < options.Seeds; s++)
            {
                var answers = Answer(model, layout, data, c, options, Seeds.Mix(options.Seed, s, 0xE7A1), device, progress);
                seeds.Add(SeedMeasurement.FromAnswers(answers, data.Select(d => d.Source.Answer).ToList()));
            }
            rows.Add(ResultAggregator.Aggregate(method, c, dataset, seeds, (options.Decoding ?? AnswerDecoding.Greedy).ToString()));
        }
        return rows;
    }

    /// <summary>Answers every question once, in batches, with one seeded random stream.</summary>
    public static IReadOnlyList<GeneratedAnswer> Answer(ReasonerModule model, PromptLayout layout, IReadOnlyList<EncodedSample> data,
        int compression, EvalOptions options, int seed, Device device, Progress? progress = null)
    {
        var answers = new List<GeneratedAnswer>(data.Count);
        using var generator = new Generator((ulong)seed, device);
        for (int start = 0; start < data.Count; start += options.BatchSize)
        {
            var batch = data.Skip(start).Take(options.BatchSize).ToList();
            var result = model.Generate(new GenerationRequest(batch, layout, device, compression,
                options.LatentTemperature, options.Decoding, generator, options.MaxSteps, options.MaxAnswerTokens));
            answers.AddRange(result.Answers);
            progress?.Advance(batch.Count);
        }
        return answers;
    }
}
