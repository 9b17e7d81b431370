using System.Text.Json;
using System.Text.Json.Nodes;
using CoLaR.Checkpoints;
using CoLaR.Data;
using CoLaR.Modules;
using CoLaR.Native;
using CoLaR.Text;
using CoLaR.Training;
using CoLaR.Training.Grpo;
using TorchSharp;

namespace CoLaR.Runs;

/// <summary>
/// One `colar train --stage rl` run: GRPO from an SFT checkpoint of a latent reasoner, with the same
/// output-folder contract as <see cref="SftRun"/> (config.json, metrics.jsonl, events/, run.log,
/// resumable state every checkpoint_every iterations, checkpoints/final.safetensors).
/// </summary>
public sealed class RlRun
{
    public required ModelEntry Model { get; init; }
    public required IReadOnlyList<Sample> Data { get; init; }
    public required string OutputDirectory { get; init; }
    /// <summary>The SFT checkpoint to start from (required: RL refines a trained latent reasoner).</summary>
    public required string Init { get; init; }
    public GrpoOptions Grpo { get; init; } = new();
    public RunOptions Run { get; init; } = new();
    public IReadOnlyDictionary<string, string> Describe { get; init; } = new Dictionary<string, string>();
    public TextWriter Console { get; init; } = System.Console.Out;
    public ProgressMode ProgressMode { get; init; } = ProgressMode.Auto;

    public string CheckpointDirectory => Path.Combine(OutputDirectory, "checkpoints");
    public string StateDirectory => Path.Combine(OutputDirectory, "state");
    public string FinalPath => Path.Combine(CheckpointDirectory, SftRun.FinalCheckpoint);

    public string Execute(CancellationToken cancellation = default)
    {
        Grpo.Validate();
        Run.Validate();
        if (Run.Precision == Precision.Bf16)
            throw new ConfigException("option 'precision' is bf16, but GRPO (--stage rl) trains in fp32 (auto means fp32 here); bf16 mixed precision is for SFT");
        Directory.CreateDirectory(OutputDirectory);
        using var log = RunLog.Open(OutputDirectory);
        try
        {
            return ExecuteLogged(log, cancellation);
        }
        catch (Exception e)
        {
            log.Error(e.Message, e);
            throw;
        }
    }

    string ExecuteLogged(RunLog log, CancellationToken cancellation)
    {
        var spec = Model.Spec;
        if (spec.Method != ReasoningMethod.CompressedLatent)
            throw new ArgumentException($"--stage rl trains latent reasoners ([LatentReasoner]); {spec.Name} is declared with another root");
        var device = TorchDevices.Resolve(Run.Device);
        if (Run.Threads > 0) torch.set_num_threads(Run.Threads);

        var config = new JsonObject
        {
            ["model"] = spec.Name, ["fingerprint"] = spec.Fingerprint, ["stage"] = "rl", ["init"] = Init,
            ["grpo"] = RunConfig.ToJson(Grpo), ["run"] = RunConfig.ToJson(Run),
        };
        foreach (var (k, v) in Describe) config[k] = v;
        Resume.CheckOptions(OutputDirectory, config, "grpo", "run");
        var configText = config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(Path.Combine(OutputDirectory, "config.json"), configText);
        log.Info("config: " + config.ToJsonString());
        Console.WriteLine($"train {spec.Name} (GRPO) → {OutputDirectory}");
        Console.WriteLine(configText);

        var tokenizer = Tokenizers.For(spec.Tokenizer, Path.GetDirectoryName(Path.GetFullPath(Init)));
        var layout = new PromptLayout(tokenizer);
        if (tokenizer.VocabularySize > spec.Backbone.Vocab)
            throw new ArgumentException($"the tokenizer ({tokenizer.Name}) has {tokenizer.VocabularySize} tokens but {spec.Backbone.Name}.Vocab is {spec.Backbone.Vocab}");
        var data = Run.MaxSamples > 0 ? Data.Take(Run.MaxSamples).ToList() : Data;
        var questions = SequenceLimits.Apply(data.Select(layout.Encode).ToList(), spec, layout, Run.TooLong, out var report);
        if (report is not null) { Console.WriteLine(report); log.Warn(report); }

        var model = Model.Create();
        model.to(device);
        var trainer = new GrpoTrainer(model, questions, layout, Grpo, device);
        int start = 0;
        var state = TrainingState.TryLoad(StateDirectory, model, trainer.Optimizer);
        if (state is not null)
        {
            var json = JsonNode.Parse(state.TrainerJson)!;
            start = json["step"]!.GetValue<int>();
            model.EmbedsStd = json["embeds_std"]?.GetValue<double?>() ?? double.NaN;
            if (start > Grpo.Steps)
                throw new ConfigException($"{OutputDirectory} holds a run already trained for {start} iterations, more than steps={Grpo.Steps}; pass steps={start} or more, or use a new --out");
            Console.WriteLine($"resuming from iteration {start} ({TrainingState.PathIn(StateDirectory)})");
            log.Info($"resumed at iteration {start}");
            log.Rewind(RunPhase.Rl, start);
        }
        else
        {
            var metadata = ModelCheckpoint.Load(Init, model);
            if (double.IsNaN(model.EmbedsStd))
                throw new CheckpointException(Init, "it has no embeds_std: RL starts from a latent reasoner trained with `colar train` (SFT)", CheckpointErrorKind.Mismatch);
            Console.WriteLine($"initialised from {Init} (step {metadata.GetValueOrDefault("colar.step", "?")}, embeds_std {model.EmbedsStd:G4})");
        }
        if (start >= Grpo.Steps)
        {
            // A crash between saving the final state and the final checkpoint leaves only the state, and a run extended
            // (larger steps) and cut short again leaves the earlier final checkpoint: write it from the state.
            if (Resume.StepOf(FinalPath) != start)
            {
                Directory.CreateDirectory(CheckpointDirectory);
                ModelCheckpoint.Save(FinalPath, model, new Dictionary<string, string> { ["colar.step"] = start.ToString(System.Globalization.CultureInfo.InvariantCulture), ["colar.stage"] = "rl" });
            }
            Console.WriteLine($"already trained: {FinalPath}");
            return FinalPath;
        }

        using var progress = Progress.Start($"grpo {spec.Name}", Grpo.Steps, new ProgressOptions { Mode = ProgressMode, Output = Console, AlreadyDone = start });
        trainer.StepCompleted = r =>
        {
            progress.Advance(1, $"reward {r.Reward:F3} acc {r.Accuracy:P0} #L {r.MeanSteps:F1}");
            if (r.Step % Grpo.LogEvery == 0 || r.Step == Grpo.Steps)
                log.Metrics(RunPhase.Rl, r.Step, new Dictionary<string, double>
                {
                    ["reward"] = r.Reward, ["accuracy"] = r.Accuracy, ["mean_steps"] = r.MeanSteps, ["latent_entropy"] = r.LatentEntropy,
                    ["loss"] = r.Loss, ["grad_norm"] = r.GradientNorm, ["clipped_fraction"] = r.ClippedFraction, ["seconds"] = r.Seconds,
                    ["early_stop_probability"] = r.EarlyStopProbability,
                });
        };
        trainer.CheckpointDue = step =>
        {
            TrainingState.Save(StateDirectory, model, trainer.Optimizer, JsonSerializer.Serialize(new { step, embeds_std = model.EmbedsStd }));
            Directory.CreateDirectory(CheckpointDirectory);
            var path = step == Grpo.Steps ? FinalPath : Path.Combine(CheckpointDirectory, "last.safetensors");
            ModelCheckpoint.Save(path, model, new Dictionary<string, string> { ["colar.step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture), ["colar.stage"] = "rl" });
            log.Info($"checkpoint at iteration {step}: {path}");
        };
        trainer.Run(start, cancellation);
        Console.WriteLine($"saved {FinalPath}");
        return FinalPath;
    }
}
