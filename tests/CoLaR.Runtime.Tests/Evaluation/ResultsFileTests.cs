using System.Globalization;
using System.Text.Json;
using CoLaR.Evaluation;
using CoLaR.Inference;
using Xunit;

namespace CoLaR.Runtime.Tests.Evaluation;

public sealed class ResultsFileTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "colar-results-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    static ResultRow Row(string method = "CoLaR", int c = 2, string dataset = "gsm8k-aug") =>
        new(method, c, dataset, 0.401, 0.012, 12.7, 0.3, 3);

    [Fact]
    public void Writes_the_exact_schema_with_snake_case_keys()
    {
        var json = ResultsFile.Serialize([Row() with { MeanStepsCorrect = 11.5, Decoding = "greedy" }]);
        using var doc = JsonDocument.Parse(json);
        var rows = doc.RootElement.GetProperty("rows");
        Assert.Equal(1, rows.GetArrayLength());
        var names = rows[0].EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["method", "compression", "dataset", "accuracy", "accuracy_ci95", "mean_steps", "mean_steps_ci95", "seeds", "mean_steps_correct", "decoding"], names);
        Assert.Equal("CoLaR", rows[0].GetProperty("method").GetString());
        Assert.Equal(2, rows[0].GetProperty("compression").GetInt32());
        Assert.Equal(0.401, rows[0].GetProperty("accuracy").GetDouble());
        Assert.Equal(3, rows[0].GetProperty("seeds").GetInt32());
        Assert.Contains("\"accuracy\": 0.401", json); // invariant, shortest round-trip number
    }

    [Fact]
    public void Round_trips_through_a_file_in_any_culture_and_keeps_unknown_fields()
    {
        var before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CommaCulture(); // a decimal comma must not leak into the file
            string path = Path.Combine(_dir, "sub", "results.json");
            const string withExtra = """
                {"rows": [{"method": "CoT", "compression": 1, "dataset": "svamp", "accuracy": 0.5, "accuracy_ci95": 0.01,
                           "mean_steps": 21.4, "mean_steps_ci95": 0.2, "seeds": 5, "notes": "rerun", "gpu": {"kind": "H200"}}]}
                """;
            var parsed = ResultsFile.Parse(withExtra);
            ResultsFile.Write(path, parsed.Append(Row()));
            Assert.False(File.Exists(path + ".tmp-" + Environment.ProcessId));
            var back = ResultsFile.Read(path);
            Assert.Equal(2, back.Count);
            Assert.Equal("CoT", back[0].Method);
            Assert.Equal(21.4, back[0].MeanSteps);
            Assert.Equal("rerun", back[0].Extra!["notes"].GetString());
            Assert.Equal("H200", back[0].Extra!["gpu"].GetProperty("kind").GetString());
            Assert.Equal(Row() with { }, back[1] with { Extra = null });
            Assert.Contains("\"mean_steps\": 12.7", File.ReadAllText(path));
        }
        finally { CultureInfo.CurrentCulture = before; }
    }

    /// <summary>A culture with a decimal comma (globalization is invariant here, so build one by hand).</summary>
    internal static CultureInfo CommaCulture()
    {
        var c = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        c.NumberFormat.NumberDecimalSeparator = ",";
        c.NumberFormat.NumberGroupSeparator = ".";
        return c;
    }

    [Theory]
    [InlineData("""{"rows": [{"method": "CoT", "compression": 1, "dataset": "d", "accuracy": 48.8, "accuracy_ci95": 0, "mean_steps": 1, "mean_steps_ci95": 0, "seeds": 1}]}""", "accuracy")]
    [InlineData("""{"rows": [{"method": "CoT", "compression": 1, "dataset": "d", "accuracy_ci95": 0, "mean_steps": 1, "mean_steps_ci95": 0, "seeds": 1}]}""", "accuracy")]
    [InlineData("""{"rows": [{"method": "CoT", "compression": 0, "dataset": "d", "accuracy": 0.5, "accuracy_ci95": 0, "mean_steps": 1, "mean_steps_ci95": 0, "seeds": 1}]}""", "compression")]
    [InlineData("""{"rows": [{"method": "CoT", "compression": 1, "dataset": "d", "accuracy": 0.5, "accuracy_ci95": 0, "mean_steps": 1, "mean_steps_ci95": 0, "seeds": 0}]}""", "seeds")]
    [InlineData("""{"rows": [{"method": null, "compression": 1, "dataset": "d", "accuracy": 0.5, "accuracy_ci95": 0, "mean_steps": 1, "mean_steps_ci95": 0, "seeds": 1}]}""", "method")]
    [InlineData("""{"table": []}""", "rows")]
    [InlineData("""not json""", "results")]
    public void Rejects_bad_documents_naming_the_problem(string json, string mention)
    {
        var e = Assert.Throws<InvalidDataException>(() => ResultsFile.Parse(json, "r.json"));
        Assert.StartsWith("r.json", e.Message);
        Assert.Contains(mention, e.Message);
    }

    [Fact]
    public void Refuses_to_write_an_invalid_row()
    {
        var e = Assert.Throws<ArgumentException>(() => ResultsFile.Serialize([Row(), Row() with { Accuracy = double.NaN }]));
        Assert.Contains("Row 1", e.Message);
    }

    [Fact]
    public void Aggregates_seeds_into_a_row()
    {
        SeedMeasurement[] seeds =
        [
            new(0.48, 10.2, 9.0, 100),
            new(0.51, 9.9, null, 100),   // no correct answers recorded for this seed's #L-correct
            new(0.53, 10.1, 9.4, 100),
            new(0.48, 9.8, 9.2, 100),
        ];
        var row = ResultAggregator.Aggregate("CoLaR", 2, "gsm8k-aug", seeds, "greedy");
        Assert.Equal(0.5, row.Accuracy, 1e-12);
        Assert.Equal(0.0389768479, row.AccuracyCi95, 1e-9);
        Assert.Equal(10.0, row.MeanSteps, 1e-12);
        // #L deviations 0.2 -0.1 0.1 -0.2: s = sqrt(0.1/3); half = 3.182446305 * s / 2.
        Assert.Equal(3.182446305283709 * Math.Sqrt(0.1 / 3) / 2, row.MeanStepsCi95, 1e-9);
        Assert.Equal(4, row.Seeds);
        Assert.Equal(9.2, row.MeanStepsCorrect!.Value, 1e-12); // mean over the 3 seeds that have it
        Assert.Equal(100, row.Questions);
        Assert.Equal("greedy", row.Decoding);
    }

    [Fact]
    public void Measures_a_seed_from_generated_answers()
    {
        GeneratedAnswer[] answers =
        [
            new("Answer:18", 4, null, true),
            new("Answer:1,400", 6, null, true),
            new("Answer:7", 10, null, false),
            new("Answer:", 8, null, true),
        ];
        var m = SeedMeasurement.FromAnswers(answers, ["18.0", "1400", "8", "3"]);
        Assert.Equal(0.5, m.Accuracy);
        Assert.Equal(7.0, m.MeanSteps);
        Assert.Equal(5.0, m.MeanStepsCorrect);
        Assert.Equal(4, m.Questions);
        Assert.Null(SeedMeasurement.FromOutcomes([(false, 3)]).MeanStepsCorrect);
        Assert.Throws<ArgumentException>(() => SeedMeasurement.FromAnswers(answers, ["1"]));
    }

    [Fact]
    public void Average_over_datasets_takes_the_interval_over_per_seed_averages()
    {
        // Seed effects shared by both data sets: per-seed averages vary as much as each data set does.
        var byDataset = new Dictionary<string, IReadOnlyList<SeedMeasurement>>
        {
            ["a"] = [new(0.40, 10, 9), new(0.50, 12, 11)],
            ["b"] = [new(0.20, 4, 3), new(0.30, 6, 5)],
        };
        var avg = ResultAggregator.AverageOverDatasets("CoLaR", 5, byDataset);
        Assert.Equal(ResultsTable.AverageDataset, avg.Dataset);
        Assert.Equal(0.35, avg.Accuracy, 1e-12);
        // Per-seed averages 0.30 and 0.40: half = 12.7062 * 0.1 / 2.
        Assert.Equal(12.706204736174707 * 0.05, avg.AccuracyCi95, 1e-9);
        Assert.Equal(8, avg.MeanSteps, 1e-12);
        Assert.Equal(7, avg.MeanStepsCorrect!.Value, 1e-12); // per-seed (9+3)/2 and (11+5)/2
        var uneven = new Dictionary<string, IReadOnlyList<SeedMeasurement>> { ["a"] = [new(0.4, 1)], ["b"] = [new(0.4, 1), new(0.5, 1)] };
        Assert.Throws<ArgumentException>(() => ResultAggregator.AverageOverDatasets("CoLaR", 5, uneven));
    }
}
