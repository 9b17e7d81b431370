using CoLaR.Evaluation;

namespace CoLaR.Models.Tests;

/// <summary>The main job, end to end, at the quick profile (the whole pipeline in well under a minute).</summary>
public class DemoTests
{
    [Fact]
    public void QuickDemo_WritesEveryArtifact()
    {
        var dir = Colar.TempDirectory("demo");
        var r = Colar.Run(TimeSpan.FromMinutes(4), "demo", "--quick", "--out", dir);
        Assert.True(r.ExitCode == 0, r.All);

        var rows = ResultsFile.Read(Path.Combine(dir, "results.json"));
        Assert.Single(rows, x => x.Method == "CoT");
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, rows.Where(x => x.Method == "CoLaR").Select(x => x.Compression).Order());
        Assert.All(rows, x => Assert.InRange(x.Accuracy, 0, 1));
        Assert.All(rows, x => Assert.Equal("synthetic", x.Dataset));
        Assert.All(rows, x => Assert.InRange(x.MeanSteps, 0, 64));

        Assert.Contains("| CoLaR-2 |", File.ReadAllText(Path.Combine(dir, "table.md")));
        Assert.True(new FileInfo(Path.Combine(dir, "plot.png")).Length > 1000);
        Assert.True(File.Exists(Path.Combine(dir, "checkpoints", "cot.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "checkpoints", "colar.safetensors")));
        foreach (var run in new[] { "cot", "colar" })
        {
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, run, "events"), "events.out.tfevents.*"));
            Assert.NotEmpty(File.ReadAllLines(Path.Combine(dir, run, "metrics.jsonl")));
        }
        Assert.Contains("CoLaR-2 keeps", r.Output);
        Directory.Delete(dir, recursive: true);
    }
}
