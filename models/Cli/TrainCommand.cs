using System.CommandLine;
using CoLaR.Data;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Training;

namespace CoLaR.Models.Cli;

/// <summary>
/// `colar train --model NAME --data FILE --out DIR [--steps N] [--init CKPT] [--config FILE] [key=value ...]`.
/// Options come from defaults, then the config file, then key=value overrides, then explicit flags;
/// the effective configuration is printed and saved as DIR/config.json. Re-running with the same DIR resumes.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Declared model to train (see `colar list`)", Required = true };
        var data = new Option<string>("--data") { Description = "Training data: GSM8k-Aug text (question||steps #### answer), reference JSON or JSONL", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder (checkpoints, metrics, events); re-use it to resume", Required = true };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps" };
        var init = new Option<string?>("--init") { Description = "Start from this checkpoint (same spec: all weights; other spec or `colar import`: the backbone)" };
        var stage = new Option<string>("--stage") { Description = "sft (supervised, default) or rl (GRPO on latent reasoning)", DefaultValueFactory = _ => "sft" };
        var config = new Option<string?>("--config") { Description = "JSON file of options (keys as in key=value)" };
        var device = new Option<string?>("--device") { Description = "cpu, cuda, cuda:N or auto" };
        var precision = new Option<string?>("--precision") { Description = "auto (bf16 on CUDA, fp32 on CPU; default), fp32 or bf16" };
        var overrides = new Argument<string[]>("key=value") { Description = "Option overrides, e.g. batch_size=64 lr=5e-4", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("train", "Train a declared model (SFT, or GRPO with --stage rl)") { model, data, output, steps, init, stage, config, device, precision, overrides };
        command.SetAction(parse =>
        {
            var outDir = parse.GetValue(output)!;
            return Failures.Guard(() =>
            {
                var values = Options.Layered(parse.GetValue(config), parse.GetValue(overrides) ?? [],
                    ("steps", parse.GetValue(steps)?.ToString()), ("device", parse.GetValue(device)), ("precision", parse.GetValue(precision)));
                var entry = ModelRegistry.Get(parse.GetValue(model)!);
                var dataPath = parse.GetValue(data)!;
                var samples = ReadTrainingData(dataPath, RunConfig.Bind(new RunOptions(), values).EmptyReasoning);
                string stageName = parse.GetValue(stage)!.ToLowerInvariant();
                if (stageName == "rl") return RlCommand.Train(entry, samples, dataPath, outDir, parse.GetValue(init), values);
                if (stageName != "sft") throw new ArgumentException($"--stage '{stageName}' is not sft or rl");
                var used = new HashSet<string>();
                var sft = RunConfig.Bind(new SftOptions(), values, used);
                var run = RunConfig.Bind(new RunOptions(), values, used);
                RunConfig.RejectUnknown(values, used, RunConfig.Keys<SftOptions>().Concat(RunConfig.Keys<RunOptions>()));
                new SftRun
                {
                    Model = entry, Data = samples, OutputDirectory = outDir, Sft = sft, Run = run, Init = parse.GetValue(init),
                    Describe = new Dictionary<string, string> { ["data"] = Path.GetFullPath(dataPath), ["stage"] = "sft" },
                }.Execute();
                return 0;
            }, outDir);
        });
        return command;
    }

    /// <summary>Reads training data; empty reasoning is an error unless empty_reasoning says otherwise.</summary>
    public static IReadOnlyList<Sample> ReadTrainingData(string path, EmptyReasoning emptyReasoning)
    {
        try
        {
            return DatasetReader.Read(path, new DatasetReadOptions { EmptyReasoning = emptyReasoning });
        }
        catch (DataFormatException e) when (emptyReasoning == EmptyReasoning.Error && e.Problem.StartsWith("empty reasoning", StringComparison.Ordinal))
        {
            throw new DataFormatException(e.File, e.Line, e.Problem + "; pass empty_reasoning=skip to leave such records out, or empty_reasoning=keep to train on them as answer-only samples");
        }
    }
}

/// <summary>Layering of option sources shared by the commands.</summary>
public static class Options
{
    /// <summary>Config file, then key=value tokens, then explicit flags (non-null ones).</summary>
    public static Dictionary<string, (string Value, string Source)> Layered(string? configFile, IEnumerable<string> overrides, params (string Key, string? Value)[] flags)
    {
        var values = configFile is null ? new Dictionary<string, (string, string)>() : RunConfig.ReadFile(configFile);
        foreach (var (k, v) in RunConfig.ParseOverrides(overrides)) values[k] = v;
        foreach (var (k, v) in flags) if (v is not null) values[k] = (v, "--" + k.Replace('_', '-'));
        return values;
    }
}
