using System.CommandLine;
using CoLaR.Models.Bench;

namespace CoLaR.Models.Cli;

/// <summary>`colar bench [--out DIR] [--quick] [--cot CKPT --colar CKPT]`: the speed figures of docs/performance.md.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Where bench.json goes", DefaultValueFactory = _ => Path.Combine("out", "bench") };
        var quick = new Option<bool>("--quick") { Description = "Tiny sizes: checks that every figure is produced (seconds), measures nothing worth reporting" };
        var cot = new Option<string?>("--cot") { Description = "A trained CoT checkpoint for the answer-time figure (default: out/demo/checkpoints/cot.safetensors if present, else a tiny model trained here)" };
        var colar = new Option<string?>("--colar") { Description = "A trained CoLaR checkpoint with the same backbone (default: out/demo/checkpoints/colar.safetensors if present)" };
        var only = new Option<string[]>("--only") { Description = "Run only these sections: rss, fused, mfu, kv, answer", AllowMultipleArgumentsPerToken = true };
        var command = new Command("bench", "Measure training and decoding speed as ratios taken side by side in one run; print a table and write bench.json")
            { output, quick, cot, colar, only };
        command.SetAction(parse =>
        {
            var outDir = parse.GetValue(output)!;
            return Failures.Guard(() =>
            {
                var sections = parse.GetValue(only) is { Length: > 0 } names ? names.ToHashSet(StringComparer.OrdinalIgnoreCase) : null;
                new Benchmark(parse.GetValue(quick) ? BenchProfile.Quick : BenchProfile.Full, outDir, parse.GetValue(cot), parse.GetValue(colar), Console.Out)
                    { Only = sections }.Run();
                return 0;
            });
        });
        return command;
    }
}
