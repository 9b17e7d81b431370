using System.CommandLine;
using CoLaR.Modules;

namespace CoLaR.Models.Cli;

/// <summary>`colar list`: every declared model, one per line.</summary>
public static class ListCommand
{
    public static Command Create()
    {
        var command = new Command("list", "List the declared models (one per line: name, then what it is)");
        command.SetAction(_ =>
        {
            foreach (var entry in ModelRegistry.All) Console.WriteLine($"{entry.Name,-14} {entry.Spec.Summary()}");
            return 0;
        });
        return command;
    }
}
