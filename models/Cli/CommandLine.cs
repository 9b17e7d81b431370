using System.CommandLine;

namespace CoLaR.Models.Cli;

/// <summary>The `colar` root command: one subcommand per file in this folder.</summary>
public static class CommandLine
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("colar — train, evaluate and serve latent-reasoning models declared with the CoLaR spec language")
        {
            ListCommand.Create(),
            TrainCommand.Create(),
            EvalCommand.Create(),
            InferCommand.Create(),
            ImportCommand.Create(),
            ExportCommand.Create(),
            DemoCommand.Create(),
            DataCommand.Create(),
            ReproduceCommand.Create(),
            RlDemoCommand.Create(),
            BenchCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
