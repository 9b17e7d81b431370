using System.CommandLine;
using CoLaR.Models.Workflows;

namespace CoLaR.Models.Cli;

/// <summary>`colar demo [--out DIR] [--quick]`: the main job (see <see cref="Demo"/>).</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Output folder (default out/demo, or out/demo-quick with --quick)" };
        var quick = new Option<bool>("--quick") { Description = "A tiny profile that checks the whole pipeline in under a minute" };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var command = new Command("demo", "Synthesise data, train CoT then CoLaR, evaluate at c = 1..5, write table, plot and results") { output, quick, device };
        command.SetAction(parse =>
        {
            // The quick profile trains with other options, so it gets its own folder: a folder is one resumable run.
            var outDir = parse.GetValue(output) ?? Path.Combine("out", parse.GetValue(quick) ? "demo-quick" : "demo");
            return Failures.Guard(() =>
            {
                new Demo(parse.GetValue(quick) ? DemoProfile.Quick : DemoProfile.Default, outDir, parse.GetValue(device)!, Console.Out).Run();
                return 0;
            }, outDir);
        });
        return command;
    }
}
