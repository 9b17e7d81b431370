using ScottPlot;
using SkiaSharp;

namespace CoLaR.Evaluation;

/// <summary>
/// The accuracy / reasoning-length trade-off as a PNG: accuracy (%) on y against #L on x, one point per
/// method and compression, labelled ("CoLaR c=3"), one colour per method, with 95 % error bars in both
/// directions when the rows have them. Rendered with ScottPlot 5 (SkiaSharp; the Linux native library comes
/// with ScottPlot's SkiaSharp.NativeAssets.Linux.NoDependencies dependency).
/// </summary>
public static class ResultsPlot
{
    /// <summary>
    /// Saves the plot to <paramref name="path"/> (PNG; its folder is created).
    /// With <paramref name="dataset"/> given, plots that data set. Otherwise: the only data set when there is one;
    /// with several, each method's <see cref="ResultsTable.AverageDataset"/> row when present, else the plain mean
    /// over data sets (no error bars) for methods that have them all.
    /// </summary>
    /// <exception cref="ArgumentException">Nothing to plot (unknown data set, or no rows).</exception>
    public static void Save(string path, IEnumerable<ResultRow> rows, string? dataset = null, string? title = null, int width = 900, int height = 600)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(rows);
        var list = rows.ToList();
        var (points, what) = Points(list, dataset);
        if (points.Count == 0)
            throw new ArgumentException("No result rows to plot" + (dataset is null ? "." : $" for data set '{dataset}'."), nameof(rows));

        var plt = new Plot();
        PlotStyle.Apply(plt);
        var methods = points.Select(p => p.Method).Distinct().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var method in methods)
        {
            var color = palette.GetColor(methods.IndexOf(method));
            var mine = points.Where(p => p.Method == method).ToList();
            double[] xs = mine.Select(p => p.X).ToArray(), ys = mine.Select(p => p.Y).ToArray();
            if (mine.Any(p => p.XErr > 0 || p.YErr > 0))
            {
                var bars = plt.Add.ErrorBar(xs, ys, mine.Select(p => p.YErr).ToArray());
                bars.XErrorPositive = bars.XErrorNegative = mine.Select(p => p.XErr).ToArray();
                bars.Color = color;
                bars.LineWidth = 1.5f;
                bars.CapSize = 5;
            }
            var marks = plt.Add.ScatterPoints(xs, ys, color);
            marks.MarkerSize = 11;
            marks.LegendText = method;
            foreach (var p in mine)
            {
                var label = plt.Add.Text(p.Label, p.X, p.Y);
                label.Alignment = Alignment.LowerLeft;
                label.OffsetX = 7;
                label.OffsetY = -7;
                label.LabelFontSize = 13;
                label.LabelFontColor = color;
            }
        }

        // Leave room for labels right of the points; #L starts at 0 (plus a sliver so points at 0 are whole).
        double xMax = points.Max(p => p.X + p.XErr), yMin = points.Min(p => p.Y - p.YErr), yMax = points.Max(p => p.Y + p.YErr);
        double ySpan = Math.Max(yMax - yMin, 5);
        double xRight = Math.Max(1, xMax) * 1.25;
        plt.Axes.SetLimits(-0.03 * xRight, xRight, Math.Max(0, yMin - 0.15 * ySpan), Math.Min(100, yMax + 0.2 * ySpan) + 0.02 * ySpan);
        plt.Title(title ?? $"Accuracy vs. reasoning length ({what})");
        plt.XLabel("#L (mean reasoning steps)");
        plt.YLabel("Accuracy (%)");
        plt.ShowLegend(Alignment.LowerRight);
        PlotStyle.SavePng(plt, path, width, height);
    }

    internal sealed record PlotPoint(string Method, string Label, double X, double XErr, double Y, double YErr);

    internal static (List<PlotPoint> Points, string What) Points(List<ResultRow> rows, string? dataset)
    {
        var labels = ResultsTable.Labels(rows);
        string LabelOf(ResultRow r) =>
            labels[(r.Method, r.Compression)] == r.Method ? r.Method : $"{r.Method} c={r.Compression}";
        PlotPoint Point(ResultRow r) => new(r.Method, LabelOf(r), r.MeanSteps, r.MeanStepsCi95, r.Accuracy * 100, r.AccuracyCi95 * 100);

        var keys = ResultsTable.OrderedKeys(rows);
        if (dataset is not null)
        {
            var chosen = rows.Where(r => string.Equals(r.Dataset, dataset, StringComparison.OrdinalIgnoreCase)).ToList();
            if (chosen.Count == 0)
                throw new ArgumentException($"No rows for data set '{dataset}'; have: {string.Join(", ", rows.Select(r => r.Dataset).Distinct())}.", nameof(dataset));
            return (Sorted(chosen.Select(Point)), chosen[0].Dataset);
        }
        var datasets = rows.Select(r => r.Dataset).Where(d => !ResultsTable.IsAverage(d)).Distinct().ToList();
        if (datasets.Count == 1)
            return (Sorted(rows.Where(r => r.Dataset == datasets[0]).Select(Point)), datasets[0]);

        var points = new List<PlotPoint>();
        foreach (var (method, c) in keys)
        {
            var avg = rows.FirstOrDefault(r => r.Method == method && r.Compression == c && ResultsTable.IsAverage(r.Dataset));
            if (avg is not null) { points.Add(Point(avg)); continue; }
            var mine = datasets.Select(d => rows.FirstOrDefault(r => r.Method == method && r.Compression == c && r.Dataset == d)).ToList();
            if (datasets.Count > 0 && mine.All(r => r is not null))
            {
                var first = mine[0]!;
                points.Add(new(method, LabelOf(first), mine.Average(r => r!.MeanSteps), 0, mine.Average(r => r!.Accuracy) * 100, 0));
            }
        }
        return (points, datasets.Count == 0 ? "average" : $"average over {datasets.Count} data sets");

        // Keep the table's method order so colours match across plots of the same rows.
        List<PlotPoint> Sorted(IEnumerable<PlotPoint> ps)
        {
            var order = keys.Select(k => k.Method).Distinct().ToList();
            return ps.OrderBy(p => order.IndexOf(p.Method)).ToList();
        }
    }
}

/// <summary>One named curve for <see cref="LinePlot"/>: y against x (e.g. reward against RL step).</summary>
public sealed record LineSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>Training curves (loss, reward, accuracy, #L against step) as a PNG.</summary>
public static class LinePlot
{
    /// <summary>
    /// Saves the curves to <paramref name="path"/> (PNG; its folder is created). Non-finite points (a NaN loss)
    /// are skipped rather than breaking the axis range. Plot quantities of one scale together; put reward and
    /// #L in separate files.
    /// </summary>
    /// <exception cref="ArgumentException">A series has X and Y of different lengths, or there is no finite point at all.</exception>
    public static void Save(string path, string title, IEnumerable<LineSeries> series, string xLabel = "step", string yLabel = "", int width = 900, int height = 540)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(series);
        var list = series.ToList();
        var plt = new Plot();
        PlotStyle.Apply(plt);
        var palette = new ScottPlot.Palettes.Category10();
        int drawn = 0;
        for (int i = 0; i < list.Count; i++)
        {
            var s = list[i];
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"Series '{s.Name}' has {s.X.Count} x values but {s.Y.Count} y values.", nameof(series));
            var keep = Enumerable.Range(0, s.X.Count).Where(j => double.IsFinite(s.X[j]) && double.IsFinite(s.Y[j])).ToArray();
            if (keep.Length == 0) continue;
            var line = plt.Add.ScatterLine(keep.Select(j => s.X[j]).ToArray(), keep.Select(j => s.Y[j]).ToArray(), palette.GetColor(i));
            line.LineWidth = 2;
            line.MarkerSize = keep.Length <= 60 ? 5 : 0; // markers only while they stay readable
            line.LegendText = s.Name;
            drawn += keep.Length;
        }
        if (drawn == 0) throw new ArgumentException("No finite points to plot.", nameof(series));
        plt.Title(title);
        plt.XLabel(xLabel);
        if (!string.IsNullOrEmpty(yLabel)) plt.YLabel(yLabel);
        // Outside the data area: training curves fill every corner sooner or later.
        if (list.Count > 1 || !string.IsNullOrEmpty(list[0].Name)) plt.ShowLegend(Edge.Right);
        PlotStyle.SavePng(plt, path, width, height);
    }
}

/// <summary>Shared look and the PNG writer.</summary>
internal static class PlotStyle
{
    static readonly string[] SansFonts = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];
    static string? _font;

    /// <summary>A sans-serif font that exists here: Skia's first family on Linux is often a serif or math font.</summary>
    public static void Apply(Plot plt)
    {
        _font ??= FindFont();
        if (_font.Length > 0) plt.Font.Set(_font);
    }

    static string FindFont()
    {
        try
        {
            var families = SKFontManager.Default.FontFamilies.ToHashSet(StringComparer.OrdinalIgnoreCase);
            return SansFonts.FirstOrDefault(families.Contains) ?? "";
        }
        catch (Exception)
        {
            return ""; // keep ScottPlot's default rather than fail a run over a font
        }
    }

    public static void SavePng(Plot plt, string path, int width, int height)
    {
        if (width < 100 || height < 100) throw new ArgumentOutOfRangeException(nameof(width), "The image needs at least 100 x 100 pixels.");
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        plt.SavePng(full, width, height);
    }
}
