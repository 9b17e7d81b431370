using CoLaR.Data;
using CoLaR.Modules;

namespace CoLaR.Models.Cli;

/// <summary>`colar train --stage rl`: GRPO over latent reasoning (see CoLaR.Training.Grpo).</summary>
public static class RlCommand
{
    public static int Train(ModelEntry entry, IReadOnlyList<Sample> samples, string dataPath, string outDir, string? init,
        IReadOnlyDictionary<string, (string Value, string Source)> values)
    {
        throw new NotSupportedException("GRPO is being implemented");
    }
}
