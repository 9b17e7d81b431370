using CoLaR.Data;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Training.Grpo;

namespace CoLaR.Models.Cli;

/// <summary>`colar train --stage rl --init SFT_CKPT`: GRPO over latent reasoning (options: see <see cref="GrpoOptions"/>).</summary>
public static class RlCommand
{
    public static int Train(ModelEntry entry, IReadOnlyList<Sample> samples, string dataPath, string outDir, string? init,
        IReadOnlyDictionary<string, (string Value, string Source)> values)
    {
        if (init is null) throw new ArgumentException("--stage rl needs --init: the SFT checkpoint of the latent reasoner to refine");
        var used = new HashSet<string>();
        var grpo = RunConfig.Bind(new GrpoOptions(), values, used);
        var run = RunConfig.Bind(new RunOptions(), values, used);
        RunConfig.RejectUnknown(values, used, RunConfig.Keys<GrpoOptions>().Concat(RunConfig.Keys<RunOptions>()));
        new RlRun
        {
            Model = entry, Data = samples, OutputDirectory = outDir, Init = init, Grpo = grpo, Run = run,
            Describe = new Dictionary<string, string> { ["data"] = Path.GetFullPath(dataPath) },
        }.Execute();
        return 0;
    }
}
