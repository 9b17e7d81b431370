using System.Text.Json;
using System.Text.Json.Nodes;
using CoLaR.Checkpoints;
using CoLaR.Data;
using CoLaR.Modules;
using CoLaR.Native;
using CoLaR.Text;
using CoLaR.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Runs;

/// <summary>
/// One `colar train` run, start to finish: an output folder with the effective config, a run log
/// (metrics.jsonl, TensorBoard events, run.log), periodic resumable state, and the final checkpoint.
/// Re-running with the same output folder resumes from the last saved state; an interrupted run loses
/// at most <see cref="SftOptions.CheckpointEvery"/> steps and ends with the same weights as an
/// uninterrupted one.
/// </summary>
public sealed class SftRun
{
    public const string FinalCheckpoint = "final.safetensors";

    public required ModelEntry Model { get; init; }
    public required IReadOnlyList<Sample> Data { get; init; }
    public required string OutputDirectory { get; init; }
    public SftOptions Sft { get; init; } = new();
    public RunOptions Run { get; init; } = new();
    /// <summary>Weights to start from: a checkpoint of this spec, or of another spec with the same backbone (CoT → CoLaR).</summary>
    public string? Init { get; init; }
    /// <summary>Extra facts recorded in config.json (for example the data file).</summary>
    public IReadOnlyDictionary<string, string> Describe { get; init; } = new Dictionary<string, string>();
    /// <summary>Where progress and messages go (the console).</summary>
    public TextWriter Console { get; init; } = System.Console.Out;
    /// <summary>Progress display mode (plain lines in CI and tests).</summary>
    public ProgressMode ProgressMode { get; init; } = ProgressMode.Auto;

    public string CheckpointDirectory => Path.Combine(OutputDirectory, "checkpoints");
    public string StateDirectory => Path.Combine(OutputDirectory, "state");
    public string FinalPath => Path.Combine(CheckpointDirectory, FinalCheckpoint);

    /// <summary>Trains; returns the final checkpoint's path. An existing final checkpoint with complete state is returned as is.</summary>
    public string Execute(CancellationToken cancellation = default)
    {
        Sft.Validate();
        Run.Validate();
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
        var device = TorchDevices.Resolve(Run.Device);
        if (Run.Threads > 0) torch.set_num_threads(Run.Threads);

        var config = new JsonObject
        {
            ["model"] = spec.Name,
            ["fingerprint"] = spec.Fingerprint,
            ["init"] = Init,
            ["sft"] = RunConfig.ToJson(Sft),
            ["run"] = RunConfig.ToJson(Run),
        };
        foreach (var (k, v) in Describe) config[k] = v;
        Resume.CheckOptions(OutputDirectory, config, "sft", "run");
        var configText = config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(Path.Combine(OutputDirectory, "config.json"), configText);
        log.Info("config: " + config.ToJsonString());
        Console.WriteLine($"train {spec.Name} → {OutputDirectory}");
        Console.WriteLine(configText);

        // A checkpoint tokenizer comes from beside --init (an imported backbone, or an earlier run's checkpoint), and is
        // copied beside this run's checkpoints so that `colar eval` finds it there; a resumed run finds it there too.
        string? tokenizerDirectory = Init is not null ? Path.GetDirectoryName(Path.GetFullPath(Init))
            : TokenizerFiles.Present(CheckpointDirectory) ? CheckpointDirectory : null;
        var tokenizer = Tokenizers.For(spec.Tokenizer, tokenizerDirectory);
        if (spec.Tokenizer == Tokenizers.Checkpoint && tokenizerDirectory is not null) TokenizerFiles.Copy(tokenizerDirectory, CheckpointDirectory);
        var layout = new PromptLayout(tokenizer);
        if (tokenizer.VocabularySize > spec.Backbone.Vocab)
            throw new ArgumentException($"the tokenizer ({tokenizer.Name}) has {tokenizer.VocabularySize} tokens but {spec.Backbone.Name}.Vocab is {spec.Backbone.Vocab}");
        var data = Run.MaxSamples > 0 ? Data.Take(Run.MaxSamples).ToList() : Data;
        var encoded = SequenceLimits.Apply(data.Select(layout.Encode).ToList(), spec, layout, Run.TooLong, out var report);
        if (report is not null) { Console.WriteLine(report); log.Warn(report); }

        torch.manual_seed(Sft.Seed); // weight initialisation is part of the run's seed
        var model = Model.Create();
        model.to(device);
        var trainer = new SftTrainer(model, encoded, layout, Sft, device, Run.Precision);
        log.Info($"precision: {trainer.Precision}");
        int start = 0;
        TrainingStateInfo? state;
        try
        {
            state = TrainingState.TryLoad(StateDirectory, model, trainer.Optimizer);
        }
        catch (CheckpointException e) when (e.Kind == CheckpointErrorKind.Mismatch)
        {
            throw e.WithMessage($"{e.Message}; {OutputDirectory} holds another run: resume it with the model it was started with, or train into a new --out");
        }
        if (state is not null)
        {
            var json = JsonNode.Parse(state.TrainerJson)!;
            start = json["step"]!.GetValue<int>();
            model.EmbedsStd = json["embeds_std"]?.GetValue<double?>() ?? double.NaN;
            trainer.SkippedBatches = json["skipped"]?.GetValue<int>() ?? 0;
            if (start > Sft.Steps)
                throw new ConfigException($"{OutputDirectory} holds a run already trained for {start} steps, more than steps={Sft.Steps}; pass steps={start} or more, or use a new --out");
            Console.WriteLine($"resuming from step {start} ({TrainingState.PathIn(StateDirectory)})");
            log.Info($"resumed at step {start}");
            log.Rewind(RunPhase.Sft, start); // metrics logged after the saved state would otherwise appear twice
        }
        else if (Init is not null)
        {
            Console.WriteLine(Initialization.FromCheckpoint(model, Init));
        }
        if (spec.Method == ReasoningMethod.CompressedLatent) log.Info($"embeds_std = {model.EnsureEmbedsStd():G6}");
        if (start >= Sft.Steps)
        {
            // A crash between saving the final state and the final checkpoint leaves only the state, and a run extended
            // (larger steps) and cut short again leaves the earlier final checkpoint: write it from the state.
            if (Resume.StepOf(FinalPath) != start) SaveModel(model, FinalPath, start, log);
            Console.WriteLine($"already trained: {FinalPath}");
            return FinalPath;
        }

        using var progress = Progress.Start($"sft {spec.Name}", Sft.Steps, new ProgressOptions { Mode = ProgressMode, Output = Console, AlreadyDone = start });
        trainer.StepCompleted = r =>
        {
            string status = $"loss {r.Terms.GetValueOrDefault("loss"):F3}" + (spec.Method == ReasoningMethod.CompressedLatent ? $" c={r.Compression}" : "");
            progress.Advance(1, status);
            if (r.Step % Sft.LogEvery == 0 || r.Step == Sft.Steps)
            {
                var metrics = new Dictionary<string, double>(r.Terms)
                {
                    ["lr"] = r.LearningRate, ["grad_norm"] = r.GradientNorm, ["compression"] = r.Compression,
                    ["epoch"] = r.Epoch, ["stage"] = r.Stage, ["seconds_per_step"] = r.Seconds,
                };
                if (r.Skipped) metrics["skipped"] = trainer.SkippedBatches;
                log.Metrics(RunPhase.Sft, r.Step, metrics);
            }
        };
        trainer.CheckpointDue = step =>
        {
            double? embedsStd = double.IsNaN(model.EmbedsStd) ? null : model.EmbedsStd;
            TrainingState.Save(StateDirectory, model, trainer.Optimizer, JsonSerializer.Serialize(new { step, skipped = trainer.SkippedBatches, embeds_std = embedsStd }));
            SaveModel(model, step == Sft.Steps ? FinalPath : Path.Combine(CheckpointDirectory, "last.safetensors"), step, log);
        };
        trainer.Run(start, cancellation);
        Console.WriteLine($"saved {FinalPath}");
        return FinalPath;
    }

    void SaveModel(ReasonerModule model, string path, int step, RunLog log)
    {
        Directory.CreateDirectory(CheckpointDirectory);
        ModelCheckpoint.Save(path, model, new Dictionary<string, string> { ["colar.step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        log.Info($"checkpoint at step {step}: {path}");
    }
}
