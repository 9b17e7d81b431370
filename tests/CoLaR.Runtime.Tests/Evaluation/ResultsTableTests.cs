using System.Globalization;
using CoLaR.Evaluation;
using Xunit;

namespace CoLaR.Runtime.Tests.Evaluation;

public class ResultsTableTests
{
    internal static List<ResultRow> PaperLikeRows() =>
    [
        new("CoLaR", 5, "gsm8k-aug", 0.268, 0.012, 5.57, 0.21, 3),
        new("CoT", 1, "gsm8k-aug", 0.494, 0.008, 25.6, 0.3, 3),
        new("CoLaR", 2, "gsm8k-aug", 0.401, 0.011, 12.7, 0.26, 3),
        new("CoT", 1, "svamp", 0.6, 0.01, 17.0, 0.2, 3),
        new("CoLaR", 5, "svamp", 0.5, 0.02, 3.5, 0.1, 3),
        new("CoLaR", 5, ResultsTable.AverageDataset, 0.384, 0.011, 4.535, 0.12, 3),
    ];

    [Fact]
    public void Table_one_layout_with_cot_first_and_averages()
    {
        const string expected =
            "| Method | gsm8k-aug Acc (%) | gsm8k-aug #L | svamp Acc (%) | svamp #L | Average Acc (%) | Average #L |\n" +
            "|---|---:|---:|---:|---:|---:|---:|\n" +
            "| CoT | 49.4 ± 0.8 | 25.6 ± 0.3 | 60.0 ± 1.0 | 17.0 ± 0.2 | 54.7 | 21.3 |\n" +
            "| CoLaR-5 | 26.8 ± 1.2 | 5.6 ± 0.2 | 50.0 ± 2.0 | 3.5 ± 0.1 | 38.4 ± 1.1 | 4.5 ± 0.1 |\n" +
            "| CoLaR-2 | 40.1 ± 1.1 | 12.7 ± 0.3 | – | – | – | – |\n";
        Assert.Equal(expected, ResultsTable.Markdown(PaperLikeRows()));
    }

    [Fact]
    public void Culture_does_not_change_the_numbers()
    {
        var before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = ResultsFileTests.CommaCulture();
            Assert.Contains("| CoT | 49.4 ± 0.8 |", ResultsTable.Markdown(PaperLikeRows()));
        }
        finally { CultureInfo.CurrentCulture = before; }
    }

    [Fact]
    public void Single_dataset_has_no_average_and_single_seed_has_no_interval()
    {
        var md = ResultsTable.Markdown(
        [
            new("iCoT", 1, "gsm8k-aug", 0.3, 0, 0, 0, 1),
            new("CoT", 1, "gsm8k-aug", 0.4412, 0.0101, 25.55, 0.31, 2),
        ], accuracyDecimals: 2, stepsDecimals: 2);
        Assert.Equal(
            "| Method | gsm8k-aug Acc (%) | gsm8k-aug #L |\n" +
            "|---|---:|---:|\n" +
            "| CoT | 44.12 ± 1.01 | 25.55 ± 0.31 |\n" +
            "| iCoT | 30.00 | 0.00 |\n", md);
    }

    [Fact]
    public void Labels_add_the_compression_only_where_needed()
    {
        var labels = ResultsTable.Labels(
        [
            new("CoT", 1, "d", 0.5, 0, 1, 0, 1),
            new("CoLaR", 1, "d", 0.5, 0, 1, 0, 1),
            new("CoLaR", 3, "d", 0.5, 0, 1, 0, 1),
            new("Coconut", 1, "d", 0.5, 0, 1, 0, 1),
            new("Solo", 4, "d", 0.5, 0, 1, 0, 1),
        ]);
        Assert.Equal("CoT", labels[("CoT", 1)]);
        Assert.Equal("CoLaR-1", labels[("CoLaR", 1)]);
        Assert.Equal("CoLaR-3", labels[("CoLaR", 3)]);
        Assert.Equal("Coconut", labels[("Coconut", 1)]);
        Assert.Equal("Solo-4", labels[("Solo", 4)]);
    }

    [Fact]
    public void An_interval_over_trained_models_is_shown_even_from_one_evaluation_seed_each()
    {
        // reproduce --training-seeds 3 with one evaluation seed per model: the ± is over the three models.
        var row = new ResultRow("CoLaR", 1, "d", 0.5, 0.04, 10, 0.2, 1) { TrainingSeeds = 3 };
        Assert.Equal("50.0 ± 4.0", ResultsTable.AccuracyCell(row));
        Assert.Equal("10.0 ± 0.2", ResultsTable.StepsCell(row));
        Assert.Equal("50.0", ResultsTable.AccuracyCell(row with { TrainingSeeds = null, AccuracyCi95 = 0 }));
    }

    [Fact]
    public void Duplicates_are_rejected_and_pipes_escaped()
    {
        var row = new ResultRow("CoLaR", 2, "d", 0.5, 0, 1, 0, 1);
        Assert.Throws<ArgumentException>(() => ResultsTable.Markdown([row, row with { Accuracy = 0.6 }]));
        var md = ResultsTable.Markdown([row with { Dataset = "a|b" }]);
        Assert.Contains("a\\|b Acc (%)", md);
        Assert.Throws<ArgumentException>(() => ResultsTable.Markdown([]));
    }
}
