using System.CommandLine;
using CoLaR.Models.Workflows;
using CoLaR.Runs;
using CoLaR.Training.Grpo;

namespace CoLaR.Models.Cli;

/// <summary>`colar rl-demo [--demo DIR] [--out DIR] [key=value…]`: GRPO from the demo's CoLaR, measured before and after.</summary>
public static class RlDemoCommand
{
    /// <summary>The defaults of the embedded benchmark's RL stage (GrpoOptions' own defaults suit paper-scale models).</summary>
    public static GrpoOptions Defaults { get; } = new()
    {
        Steps = 60, Questions = 16, GroupSize = 8, MiniBatch = 32, LearningRate = 2e-5, Compression = 1, CheckpointEvery = 20, Seed = 3,
        // The demo's CoLaR is MSE-trained: its latent std sits at the floor, and latent log-prob gradients
        // (noise × 1/std) cost 16 accuracy points in 60 iterations (docs/reproduction.md). Tokens only.
        LatentLogProbs = false,
    };

    public static Command Create()
    {
        var demo = new Option<string>("--demo") { Description = "The demo's output folder (its CoLaR checkpoint and data)", DefaultValueFactory = _ => Path.Combine("out", "demo") };
        var output = new Option<string>("--out") { Description = "Output folder", DefaultValueFactory = _ => Path.Combine("out", "rl") };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Start from this SFT checkpoint instead of the demo's CoLaR (e.g. a CoLaR-NLL run of `colar reproduce`); the demo's data is still used" };
        var seeds = new Option<int>("--seeds") { Description = "Evaluation seeds (before and after use the same)", DefaultValueFactory = _ => 3 };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var overrides = new Argument<string[]>("key=value") { Description = "GRPO options, e.g. steps=100 lr=1e-5 compression=2", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("rl-demo", "GRPO with the length penalty from the demo's CoLaR; #L and accuracy before and after") { demo, checkpoint, output, seeds, device, overrides };
        command.SetAction(parse =>
        {
            var outDir = parse.GetValue(output)!;
            return Failures.Guard(() =>
            {
                var values = RunConfig.ParseOverrides(parse.GetValue(overrides) ?? []);
                var used = new HashSet<string>();
                var options = RunConfig.Bind(Defaults, values, used);
                RunConfig.RejectUnknown(values, used, RunConfig.Keys<GrpoOptions>());
                var line = "colar " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
                new RlDemo(parse.GetValue(demo)!, outDir, options, parse.GetValue(seeds), parse.GetValue(device)!, line, Console.Out, parse.GetValue(checkpoint)).Run();
                return 0;
            }, outDir);
        });
        return command;
    }
}
