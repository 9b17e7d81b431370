using System.Text.Json;
using System.Text.Json.Serialization;

namespace CoLaR.Evaluation;

/// <summary>
/// One reported result: a method at one compression factor on one data set, aggregated over seeds.
/// This is one element of <c>rows</c> in <c>results.json</c> and <c>docs/results/reproduction.json</c>;
/// the JSON names are the snake_case names given on each property. Optional fields are left out of the
/// JSON when null; unknown fields read from a file are kept in <see cref="Extra"/> and written back.
/// </summary>
/// <param name="Method">"CoT", "CoLaR", "iCoT", "Coconut", "Distill", ... (JSON <c>method</c>).</param>
/// <param name="Compression">The compression factor c prompted at test time; 1 for methods without one (JSON <c>compression</c>).</param>
/// <param name="Dataset">Test set name, e.g. "gsm8k-aug"; <see cref="ResultsTable.AverageDataset"/> for a per-seed average over data sets (JSON <c>dataset</c>).</param>
/// <param name="Accuracy">Mean accuracy over seeds, a fraction in [0, 1] (JSON <c>accuracy</c>).</param>
/// <param name="AccuracyCi95">Half-width of the 95 % Student-t interval of <paramref name="Accuracy"/>, same units; 0 for one seed (JSON <c>accuracy_ci95</c>).</param>
/// <param name="MeanSteps">#L: mean reasoning-chain length (latent steps, or CoT tokens), averaged over seeds (JSON <c>mean_steps</c>).</param>
/// <param name="MeanStepsCi95">Half-width of the 95 % interval of <paramref name="MeanSteps"/> (JSON <c>mean_steps_ci95</c>).</param>
/// <param name="Seeds">Number of seeds aggregated (JSON <c>seeds</c>).</param>
public sealed record ResultRow(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("compression")] int Compression,
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("accuracy_ci95")] double AccuracyCi95,
    [property: JsonPropertyName("mean_steps")] double MeanSteps,
    [property: JsonPropertyName("mean_steps_ci95")] double MeanStepsCi95,
    [property: JsonPropertyName("seeds")] int Seeds)
{
    /// <summary>#L over correctly answered questions only, averaged over seeds that had any (JSON <c>mean_steps_correct</c>).</summary>
    [JsonPropertyName("mean_steps_correct")]
    public double? MeanStepsCorrect { get; init; }

    /// <summary>95 % half-width of <see cref="MeanStepsCorrect"/> (JSON <c>mean_steps_correct_ci95</c>).</summary>
    [JsonPropertyName("mean_steps_correct_ci95")]
    public double? MeanStepsCorrectCi95 { get; init; }

    /// <summary>How answers were decoded, e.g. "greedy" or "top-p 0.9 (T=1)" (JSON <c>decoding</c>).</summary>
    [JsonPropertyName("decoding")]
    public string? Decoding { get; init; }

    /// <summary>Test questions per seed (JSON <c>questions</c>).</summary>
    [JsonPropertyName("questions")]
    public int? Questions { get; init; }

    /// <summary>Independently trained models the row averages (JSON <c>training_seeds</c>); when set, the ± is the 95%
    /// interval over them rather than over <see cref="Seeds"/> evaluation seeds of one model.</summary>
    [JsonPropertyName("training_seeds")]
    public int? TrainingSeeds { get; init; }

    /// <summary>Fields this type does not know, kept so that reading and writing a file loses nothing.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>Checks the invariants every written or read row must meet; throws <see cref="ArgumentException"/> naming the field.</summary>
    public void Validate()
    {
        static void Fail(string what) => throw new ArgumentException(what);
        if (string.IsNullOrWhiteSpace(Method)) Fail("method is empty");
        if (string.IsNullOrWhiteSpace(Dataset)) Fail("dataset is empty");
        if (Compression < 1) Fail($"compression is {Compression}; it must be ≥ 1 (1 for methods without one)");
        if (!(Accuracy >= 0 && Accuracy <= 1)) Fail($"accuracy is {Accuracy}; it must be a fraction in [0, 1]");
        if (!(AccuracyCi95 >= 0) || !double.IsFinite(AccuracyCi95)) Fail($"accuracy_ci95 is {AccuracyCi95}; it must be finite and ≥ 0");
        if (!(MeanSteps >= 0) || !double.IsFinite(MeanSteps)) Fail($"mean_steps is {MeanSteps}; it must be finite and ≥ 0");
        if (!(MeanStepsCi95 >= 0) || !double.IsFinite(MeanStepsCi95)) Fail($"mean_steps_ci95 is {MeanStepsCi95}; it must be finite and ≥ 0");
        if (Seeds < 1) Fail($"seeds is {Seeds}; it must be ≥ 1");
        if (MeanStepsCorrect is { } c && (!(c >= 0) || !double.IsFinite(c))) Fail($"mean_steps_correct is {c}; it must be finite and ≥ 0");
        if (MeanStepsCorrectCi95 is { } cc && (!(cc >= 0) || !double.IsFinite(cc))) Fail($"mean_steps_correct_ci95 is {cc}; it must be finite and ≥ 0");
        if (TrainingSeeds is { } t && t < 1) Fail($"training_seeds is {t}; it must be ≥ 1");
        if (Questions is { } q && q < 1) Fail($"questions is {q}; it must be ≥ 1");
    }
}

/// <summary>
/// What one seed measured on one test set.
/// </summary>
/// <param name="Accuracy">Fraction of questions answered correctly, in [0, 1].</param>
/// <param name="MeanSteps">Mean #L over all questions.</param>
/// <param name="MeanStepsCorrect">Mean #L over correctly answered questions; null when none was correct.</param>
/// <param name="Questions">Number of questions, when known.</param>
public sealed record SeedMeasurement(double Accuracy, double MeanSteps, double? MeanStepsCorrect = null, int? Questions = null)
{
    /// <summary>Scores generated answers against gold answers with <see cref="AnswerMatcher"/>.</summary>
    public static SeedMeasurement FromAnswers(IReadOnlyList<CoLaR.Inference.GeneratedAnswer> answers, IReadOnlyList<string> golds)
    {
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(golds);
        if (answers.Count != golds.Count)
            throw new ArgumentException($"{answers.Count} answers but {golds.Count} gold answers.");
        var outcomes = new (bool, int)[answers.Count];
        for (int i = 0; i < answers.Count; i++)
            outcomes[i] = (AnswerMatcher.IsCorrect(answers[i], golds[i]), answers[i].Steps);
        return FromOutcomes(outcomes);
    }

    /// <summary>From per-question outcomes: whether each was correct and its #L.</summary>
    public static SeedMeasurement FromOutcomes(IReadOnlyList<(bool Correct, int Steps)> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0) throw new ArgumentException("No questions were evaluated.", nameof(outcomes));
        int correct = 0;
        long steps = 0, stepsCorrect = 0;
        foreach (var (ok, s) in outcomes)
        {
            if (s < 0) throw new ArgumentException($"Negative #L ({s}).", nameof(outcomes));
            steps += s;
            if (ok) { correct++; stepsCorrect += s; }
        }
        int n = outcomes.Count;
        return new((double)correct / n, (double)steps / n, correct > 0 ? (double)stepsCorrect / correct : null, n);
    }
}

/// <summary>Turns per-seed measurements into <see cref="ResultRow"/>s (mean ± 95 % Student-t half-width over seeds).</summary>
public static class ResultAggregator
{
    /// <summary>
    /// Aggregates one method / compression / data set over seeds. Accuracy and #L are averaged over all seeds;
    /// #L on correct answers over the seeds that answered anything correctly (null if none did).
    /// </summary>
    public static ResultRow Aggregate(string method, int compression, string dataset, IReadOnlyList<SeedMeasurement> seeds, string? decoding = null)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0) throw new ArgumentException("No seeds to aggregate.", nameof(seeds));
        var acc = Statistics.MeanWithInterval(seeds.Select(s => s.Accuracy).ToArray());
        var steps = Statistics.MeanWithInterval(seeds.Select(s => s.MeanSteps).ToArray());
        var correct = seeds.Where(s => s.MeanStepsCorrect.HasValue).Select(s => s.MeanStepsCorrect!.Value).ToArray();
        MeanEstimate? stepsCorrect = correct.Length > 0 ? Statistics.MeanWithInterval(correct) : null;
        var questions = seeds.Select(s => s.Questions).Distinct().ToArray();
        var row = new ResultRow(method, compression, dataset, acc.Mean, acc.HalfWidth, steps.Mean, steps.HalfWidth, seeds.Count)
        {
            MeanStepsCorrect = stepsCorrect?.Mean,
            MeanStepsCorrectCi95 = stepsCorrect?.HalfWidth,
            Decoding = decoding,
            // Only reported when every seed saw the same number of questions.
            Questions = questions.Length == 1 ? questions[0] : null,
        };
        row.Validate();
        return row;
    }

    /// <summary>
    /// The "Average" row over data sets, done right: seed i's accuracy (and #L) is averaged over the data sets
    /// first, then the interval is taken over those per-seed averages. Averaging the per-data-set rows instead
    /// would ignore that one seed's model answers every data set, so its errors are correlated across them.
    /// Every data set must list its seeds in the same order and have the same number of them.
    /// </summary>
    public static ResultRow AverageOverDatasets(string method, int compression, IReadOnlyDictionary<string, IReadOnlyList<SeedMeasurement>> byDataset, string? decoding = null)
    {
        ArgumentNullException.ThrowIfNull(byDataset);
        if (byDataset.Count == 0) throw new ArgumentException("No data sets.", nameof(byDataset));
        int n = byDataset.Values.First().Count;
        if (byDataset.Any(kv => kv.Value.Count != n))
            throw new ArgumentException("Every data set needs the same seeds: counts are " +
                string.Join(", ", byDataset.Select(kv => $"{kv.Key}={kv.Value.Count}")));
        var perSeed = new SeedMeasurement[n];
        for (int i = 0; i < n; i++)
        {
            var ms = byDataset.Values.Select(v => v[i]).ToArray();
            var corr = ms.Where(m => m.MeanStepsCorrect.HasValue).Select(m => m.MeanStepsCorrect!.Value).ToArray();
            perSeed[i] = new SeedMeasurement(
                ms.Average(m => m.Accuracy),
                ms.Average(m => m.MeanSteps),
                corr.Length == ms.Length ? corr.Average() : null);
        }
        return Aggregate(method, compression, ResultsTable.AverageDataset, perSeed, decoding);
    }
}
