using System.Globalization;
using System.Text;

namespace CoLaR.Evaluation;

/// <summary>
/// Renders result rows as a table laid out like Table 1 of the CoLaR paper: one row per method (and
/// compression: "CoLaR-5", "CoLaR-2"), two columns per data set ("Acc (%)" and "#L"), and an "Average" pair
/// when there is more than one data set.
/// </summary>
public static class ResultsTable
{
    /// <summary>
    /// The data set name of a per-seed average over data sets (see <see cref="ResultAggregator.AverageOverDatasets"/>).
    /// Such rows fill the Average columns instead of being a data set column of their own.
    /// </summary>
    public const string AverageDataset = "Average";

    /// <summary>A sentence to print under a table: what the numbers and "±" mean.</summary>
    public const string Legend =
        "Acc: accuracy (%); #L: mean reasoning-chain length (latent steps, or reasoning tokens for CoT). " +
        "± is the half-width of the 95% Student-t confidence interval over seeds (over trained models, when a row has several); " +
        "a value without ± is from a single seed, " +
        "or, in the Average columns, a plain mean over data sets when no per-seed average row was given.";

    /// <summary>
    /// A markdown table of <paramref name="rows"/>. Order is deterministic: the row for "CoT" comes first, then
    /// methods (with compression) in the order they first appear; data set columns in the order they first appear.
    /// A missing cell is "–". The Average columns use a row whose data set is <see cref="AverageDataset"/> when
    /// there is one (with its interval), else the plain mean over data sets when the method has them all.
    /// </summary>
    /// <exception cref="ArgumentException">Two rows share method, compression and data set.</exception>
    public static string Markdown(IEnumerable<ResultRow> rows, int accuracyDecimals = 1, int stepsDecimals = 1)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var list = rows.ToList();
        if (list.Count == 0) throw new ArgumentException("No rows to tabulate.", nameof(rows));
        var cells = new Dictionary<(string Method, int C, string Dataset), ResultRow>();
        foreach (var r in list)
        {
            if (!cells.TryAdd((r.Method, r.Compression, r.Dataset), r))
                throw new ArgumentException($"Two rows for {r.Method} c={r.Compression} on {r.Dataset}" +
                    (r.Decoding is null ? "" : " (filter by decoding first)") + ".", nameof(rows));
        }

        var keys = OrderedKeys(list);
        var labels = Labels(list);
        var datasets = list.Select(r => r.Dataset).Where(d => !IsAverage(d)).Distinct().ToList();
        bool averageColumn = datasets.Count > 1 || list.Any(r => IsAverage(r.Dataset));

        var sb = new StringBuilder();
        sb.Append("| Method |");
        foreach (var d in datasets) sb.Append($" {Escape(d)} Acc (%) | {Escape(d)} #L |");
        if (averageColumn) sb.Append(" Average Acc (%) | Average #L |");
        sb.Append('\n').Append("|---|");
        int valueColumns = 2 * datasets.Count + (averageColumn ? 2 : 0);
        for (int i = 0; i < valueColumns; i++) sb.Append("---:|");
        sb.Append('\n');

        foreach (var key in keys)
        {
            sb.Append("| ").Append(Escape(labels[key])).Append(" |");
            foreach (var d in datasets)
            {
                if (cells.TryGetValue((key.Method, key.Compression, d), out var r))
                    sb.Append(' ').Append(AccuracyCell(r, accuracyDecimals)).Append(" | ").Append(StepsCell(r, stepsDecimals)).Append(" |");
                else
                    sb.Append(" – | – |");
            }
            if (averageColumn)
            {
                if (cells.TryGetValue((key.Method, key.Compression, AverageDataset), out var avg))
                    sb.Append(' ').Append(AccuracyCell(avg, accuracyDecimals)).Append(" | ").Append(StepsCell(avg, stepsDecimals)).Append(" |");
                else
                {
                    var have = datasets.Select(d => cells.GetValueOrDefault((key.Method, key.Compression, d))).ToList();
                    if (datasets.Count > 0 && have.All(r => r is not null))
                        sb.Append(' ').Append(Format(have.Average(r => r!.Accuracy) * 100, accuracyDecimals))
                          .Append(" | ").Append(Format(have.Average(r => r!.MeanSteps), stepsDecimals)).Append(" |");
                    else
                        sb.Append(" – | – |");
                }
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// The display name of each (method, compression): the method name, with "-c" appended when c ≠ 1 or when
    /// the method appears with more than one compression ("CoT", "CoLaR-5", "CoLaR-2").
    /// </summary>
    public static IReadOnlyDictionary<(string Method, int Compression), string> Labels(IEnumerable<ResultRow> rows)
    {
        var list = rows.ToList();
        var perMethod = list.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.Select(r => r.Compression).Distinct().Count());
        var labels = new Dictionary<(string, int), string>();
        foreach (var r in list)
            labels[(r.Method, r.Compression)] = r.Compression != 1 || perMethod[r.Method] > 1 ? $"{r.Method}-{r.Compression}" : r.Method;
        return labels;
    }

    /// <summary>(method, compression) pairs in table order: "CoT" first, then in order of first appearance.</summary>
    public static IReadOnlyList<(string Method, int Compression)> OrderedKeys(IEnumerable<ResultRow> rows)
    {
        var seen = rows.Select(r => (r.Method, r.Compression)).Distinct().ToList();
        // Stable: CoT rows move to the front, everything else keeps its given order.
        return seen.Where(k => IsCoT(k.Method)).Concat(seen.Where(k => !IsCoT(k.Method))).ToList();
    }

    /// <summary>"48.8 ± 1.2" (accuracy in %), or "48.8" for a single seed.</summary>
    public static string AccuracyCell(ResultRow row, int decimals = 1) =>
        WithInterval(row.Accuracy * 100, row.AccuracyCi95 * 100, Repetitions(row), decimals);

    /// <summary>"10.0 ± 0.3" (#L), or "10.0" for a single seed.</summary>
    public static string StepsCell(ResultRow row, int decimals = 1) =>
        WithInterval(row.MeanSteps, row.MeanStepsCi95, Repetitions(row), decimals);

    /// <summary>What the ± is over: trained models when there are several (their interval replaces the seeds'), else evaluation seeds.</summary>
    static int Repetitions(ResultRow row) => row.TrainingSeeds is > 1 ? row.TrainingSeeds.Value : row.Seeds;

    internal static bool IsAverage(string dataset) => string.Equals(dataset, AverageDataset, StringComparison.OrdinalIgnoreCase);

    static bool IsCoT(string method) => string.Equals(method, "CoT", StringComparison.OrdinalIgnoreCase);

    static string WithInterval(double value, double halfWidth, int seeds, int decimals) =>
        seeds >= 2 ? $"{Format(value, decimals)} ± {Format(halfWidth, decimals)}" : Format(value, decimals);

    static string Format(double value, int decimals) =>
        value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
}
