using CoLaR.Evaluation;
using SkiaSharp;
using Xunit;

namespace CoLaR.Runtime.Tests.Evaluation;

public sealed class ResultsPlotTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "colar-plots-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    static SKBitmap Decode(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        return SKBitmap.Decode(bytes) ?? throw new Xunit.Sdk.XunitException("PNG does not decode");
    }

    // Counts pixels close to a colour (anti-aliasing blurs the edges).
    static int CountNear(SKBitmap bmp, SKColor c)
    {
        int n = 0;
        for (int y = 0; y < bmp.Height; y++)
            for (int x = 0; x < bmp.Width; x++)
            {
                var p = bmp.GetPixel(x, y);
                if (Math.Abs(p.Red - c.Red) < 12 && Math.Abs(p.Green - c.Green) < 12 && Math.Abs(p.Blue - c.Blue) < 12) n++;
            }
        return n;
    }

    [Fact]
    public void Accuracy_vs_length_plot_renders_a_png_with_one_colour_per_method()
    {
        string path = Path.Combine(_dir, "nested", "tradeoff.png");
        ResultsPlot.Save(path, ResultsTableTests.PaperLikeRows(), dataset: "gsm8k-aug", width: 640, height: 420);
        using var bmp = Decode(path);
        Assert.Equal(640, bmp.Width);
        Assert.Equal(420, bmp.Height);
        // Category10's first two colours (blue, orange) mark CoT and CoLaR; the third (green) is unused.
        Assert.True(CountNear(bmp, new SKColor(0x1f, 0x77, 0xb4)) > 50, "CoT points (blue) missing");
        Assert.True(CountNear(bmp, new SKColor(0xff, 0x7f, 0x0e)) > 100, "CoLaR points (orange) missing");
        Assert.True(CountNear(bmp, new SKColor(0x2c, 0xa0, 0x2c)) < 5, "unexpected third colour");
    }

    [Fact]
    public void Several_datasets_plot_the_average_and_unknown_dataset_throws()
    {
        var rows = ResultsTableTests.PaperLikeRows();
        var (points, what) = ResultsPlot.Points(rows, null);
        // CoT: plain mean of its two data sets; CoLaR-5: its Average row; CoLaR-2 lacks svamp: left out.
        Assert.Equal(["CoT", "CoLaR c=5"], points.Select(p => p.Label));
        Assert.Equal(21.3, points[0].X, 1e-9);
        Assert.Equal(54.7, points[0].Y, 1e-9);
        Assert.Equal(4.535, points[1].X, 1e-9);
        Assert.Equal(1.1, points[1].YErr, 1e-9);
        Assert.Contains("2 data sets", what);
        string path = Path.Combine(_dir, "avg.png");
        ResultsPlot.Save(path, rows);
        Assert.True(new FileInfo(path).Length > 1000);
        Assert.Throws<ArgumentException>(() => ResultsPlot.Save(Path.Combine(_dir, "x.png"), rows, dataset: "nope"));
    }

    [Fact]
    public void Line_plot_skips_non_finite_points_and_checks_lengths()
    {
        string path = Path.Combine(_dir, "curves.png");
        LinePlot.Save(path, "RL", [
            new LineSeries("reward", [0, 1, 2, 3], [0.1, 0.3, double.NaN, 0.5]),
            new LineSeries("accuracy", [0, 1, 2, 3], [0.2, 0.25, 0.3, 0.4]),
        ], yLabel: "value", width: 500, height: 300);
        using var bmp = Decode(path);
        Assert.Equal(500, bmp.Width);
        Assert.True(CountNear(bmp, new SKColor(0x1f, 0x77, 0xb4)) > 50);
        Assert.True(CountNear(bmp, new SKColor(0xff, 0x7f, 0x0e)) > 50);
        Assert.Throws<ArgumentException>(() => LinePlot.Save(path, "bad", [new LineSeries("x", [1, 2], [1])]));
        Assert.Throws<ArgumentException>(() => LinePlot.Save(path, "empty", [new LineSeries("x", [1], [double.NaN])]));
    }
}
