using System.Text.Json.Nodes;

namespace CoLaR.Models.Tests;

/// <summary>`colar bench --quick`: every figure is produced and written; no speed is asserted (the machine is shared).</summary>
public class BenchTests
{
    [Fact]
    public void QuickBench_WritesEveryFigureAndTheTable()
    {
        var dir = Colar.TempDirectory("bench");
        var r = Colar.Run(TimeSpan.FromMinutes(3), "bench", "--quick", "--out", dir);
        Assert.True(r.ExitCode == 0, r.All);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")))!.AsObject();
        foreach (var key in new[] { "fused_speedup", "mfu", "kv_cache_speedup", "colar5_cot_time_ratio", "rss_growth" })
        {
            Assert.True(json[key] is JsonValue, $"bench.json has no {key}");
            double value = json[key]!.GetValue<double>();
            Assert.True(double.IsFinite(value), $"{key} = {value}");
            // rss_growth may be a tiny negative number (RSS fell); the others are positive ratios.
            if (key == "rss_growth") Assert.InRange(value, -1, 10);
            else Assert.True(value > 0, $"{key} = {value}");
        }
        var details = json["details"]!.AsObject();
        foreach (var section in new[] { "fused", "mfu", "kv_cache", "answer_time", "rss" })
            Assert.True(details.ContainsKey(section), $"no details for {section}");
        var fused = details["fused"]!["sizes"]![0]!;
        Assert.True(fused["fused_peak_step_memory_mb"]!.GetValue<double>() > 0);
        Assert.True(fused["unfused_peak_step_memory_mb"]!.GetValue<double>() > 0);
        Assert.True(details["answer_time"]!["latent_step_ms"]!.GetValue<double>() > 0);
        Assert.True(details["answer_time"]!["cot_token_step_ms"]!.GetValue<double>() > 0);

        foreach (var key in new[] { "fused_speedup", "mfu", "kv_cache_speedup", "colar5_cot_time_ratio", "rss_growth" })
            Assert.Contains($"| {key} |", r.Output);
        Directory.Delete(dir, recursive: true);
    }
}
