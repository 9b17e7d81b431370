using System.Globalization;
using System.Text.Json;
using CoLaR.Evaluation;

namespace CoLaR.Runs;

/// <summary>One line of <c>metrics.jsonl</c>.</summary>
/// <param name="Step">The step it was logged at.</param>
/// <param name="Phase">"sft", "rl", "eval", ...</param>
/// <param name="Time">When it was logged (UTC).</param>
/// <param name="Values">The metrics, in file order; non-finite values come back as NaN / ±Infinity.</param>
public sealed record MetricRecord(long Step, string Phase, DateTimeOffset Time, IReadOnlyDictionary<string, double> Values);

/// <summary>Reads <c>metrics.jsonl</c> back, e.g. to plot training curves with <see cref="LinePlot"/>.</summary>
public static class MetricsFile
{
    /// <summary>
    /// Reads every line of a metrics file. A final line cut short by a crash mid-write is skipped; a bad line
    /// anywhere else throws <see cref="InvalidDataException"/> naming the file and line.
    /// </summary>
    public static IReadOnlyList<MetricRecord> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // FileShare.ReadWrite: the run may still be writing it.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);

        var records = new List<MetricRecord>(lines.Count);
        for (int i = 0; i < lines.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try
            {
                records.Add(ParseLine(lines[i]));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                if (i == lines.Count - 1) break; // torn last line
                throw new InvalidDataException($"{path}:{i + 1}: not a metrics line ({e.Message})", e);
            }
        }
        return records;
    }

    /// <summary>Parses one metrics line.</summary>
    public static MetricRecord ParseLine(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        long step = root.GetProperty("step").GetInt64();
        string phase = root.GetProperty("phase").GetString() ?? throw new FormatException("phase is null");
        var time = DateTimeOffset.Parse(root.GetProperty("time").GetString() ?? throw new FormatException("time is null"),
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in root.EnumerateObject())
        {
            if (p.Name is "step" or "phase" or "time") continue;
            values[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.Number => p.Value.GetDouble(),
                JsonValueKind.String => p.Value.GetString() switch
                {
                    "NaN" => double.NaN,
                    "Infinity" => double.PositiveInfinity,
                    "-Infinity" => double.NegativeInfinity,
                    var other => throw new FormatException($"metric '{p.Name}' is the string '{other}'"),
                },
                _ => throw new FormatException($"metric '{p.Name}' is a {p.Value.ValueKind}"),
            };
        }
        return new MetricRecord(step, phase, time, values);
    }

    /// <summary>One metric over steps as a curve, optionally of one phase only (records without the metric are skipped).</summary>
    public static LineSeries Series(IEnumerable<MetricRecord> records, string metric, string? phase = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        var xs = new List<double>();
        var ys = new List<double>();
        foreach (var r in records)
        {
            if (phase is not null && r.Phase != phase) continue;
            if (!r.Values.TryGetValue(metric, out double v)) continue;
            xs.Add(r.Step);
            ys.Add(v);
        }
        return new LineSeries(name ?? (phase is null ? metric : $"{phase}/{metric}"), xs, ys);
    }
}
