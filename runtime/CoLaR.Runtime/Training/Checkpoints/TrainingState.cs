using System.Text.Json;
using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Checkpoints;

/// <summary>What <see cref="TrainingState.TryLoad"/> restored.</summary>
/// <param name="Path">The training-state file.</param>
/// <param name="TrainerJson">The trainer's own JSON (step, epoch, seeds, scheduler position, ...), as given to <see cref="TrainingState.Save"/>.</param>
/// <param name="Metadata">The file's metadata.</param>
public sealed record TrainingStateInfo(string Path, string TrainerJson, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Everything needed to resume a training run, in one atomically written, checksummed file
/// (<c>dir/training-state.safetensors</c>): the model's weights, the optimizer's state (moments, step
/// counts, hyperparameters per group), the global CPU random generator's state, and the trainer's JSON.
/// One file, so a crash can never pair new weights with old optimizer state. Restoring on CPU is bitwise
/// exact: N more steps after a resume give the same parameters as an uninterrupted run.
/// </summary>
public static class TrainingState
{
    /// <summary>The file name inside the run directory.</summary>
    public const string FileName = "training-state.safetensors";

    const string KindKey = "colar.kind", KindValue = "training-state";
    const string OptimizerKey = "colar.optimizer", TrainerKey = "colar.trainer";
    const string ModelPrefix = "model/", RngName = "rng/cpu";

    /// <summary>The training-state file in a run directory.</summary>
    public static string PathIn(string directory) => System.IO.Path.Combine(directory, FileName);

    /// <summary>
    /// Saves model, optimizer, CPU RNG state and trainer JSON to <see cref="PathIn"/>(<paramref name="directory"/>),
    /// atomically; the state it replaces is kept as <c>training-state.safetensors.prev</c> unless <paramref name="keepPrevious"/> is false.
    /// </summary>
    /// <param name="directory">The run directory (created if needed).</param>
    /// <param name="model">The model: a <see cref="ReasonerModule"/> is saved with its spec (<see cref="ModelCheckpoint"/>); any other module by its state_dict (parameters and buffers).</param>
    /// <param name="optimizer">A TorchSharp managed optimizer (AdamW, Adam, SGD, ...) over the model's parameters.</param>
    /// <param name="trainerJson">The trainer's state as a JSON document.</param>
    /// <param name="keepPrevious">Keep the replaced state as <c>.prev</c> (a hard link: no extra disk until the next save).</param>
    /// <exception cref="ArgumentException"><paramref name="trainerJson"/> is not valid JSON.</exception>
    /// <exception cref="NotSupportedException">The optimizer keeps its state in native code.</exception>
    /// <exception cref="CheckpointException">The file could not be written; the previous state is untouched.</exception>
    public static CheckpointInfo Save(string directory, nn.Module model, optim.Optimizer optimizer, string trainerJson, bool keepPrevious = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(trainerJson);
        try { using var _ = JsonDocument.Parse(trainerJson); }
        catch (JsonException e) { throw new ArgumentException($"the trainer state is not valid JSON ({e.Message})", nameof(trainerJson), e); }

        using var scope = torch.NewDisposeScope();
        var tensors = ModelTargets(model).Select(t => (ModelPrefix + t.Name, t.Tensor)).ToList();
        var (optimizerTensors, optimizerJson) = OptimizerStateIO.Capture(optimizer, model);
        tensors.AddRange(optimizerTensors);
        tensors.Add((RngName, torch.get_rng_state()));

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [KindKey] = KindValue,
            [OptimizerKey] = optimizerJson,
            [TrainerKey] = trainerJson,
        };
        if (model is ReasonerModule reasoner)
            foreach (var (key, value) in ModelCheckpoint.SpecMetadata(reasoner)) metadata[key] = value;
        return Checkpoint.Save(PathIn(directory), tensors, metadata, keepPrevious);
    }

    /// <summary>
    /// Restores a run saved by <see cref="Save"/>: model weights, optimizer state and hyperparameters, and
    /// (with <paramref name="restoreRng"/>) the global CPU random generator. Everything is checked first
    /// (checksums, spec, names, shapes, optimizer type and groups), so a refused file changes nothing.
    /// </summary>
    /// <returns>The restored state, or null when the directory holds no training state (a fresh run).</returns>
    /// <exception cref="CheckpointException">The file is corrupt (the message names the <c>.prev</c> file to fall back to) or does not fit the model or optimizer.</exception>
    public static TrainingStateInfo? TryLoad(string directory, nn.Module model, optim.Optimizer optimizer, bool verify = true, bool restoreRng = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var path = PathIn(directory);
        if (!File.Exists(path)) return null;

        double embedsStd = double.NaN;
        using var scope = torch.NewDisposeScope();
        using var file = Checkpoint.Load(path, verify, header =>
        {
            var metadata = header.Metadata;
            if (!metadata.TryGetValue(KindKey, out var kind) || kind != KindValue)
                throw new CheckpointException(path, $"is not a training-state file ({KindKey} is {CheckpointException.Quote(kind ?? "missing")})", CheckpointErrorKind.Mismatch);
            if (!metadata.ContainsKey(OptimizerKey) || !metadata.ContainsKey(TrainerKey))
                throw new CheckpointException(path, $"lacks {OptimizerKey} or {TrainerKey} metadata", CheckpointErrorKind.Format);
            if (model is ReasonerModule reasoner) embedsStd = ModelCheckpoint.CheckSpec(path, metadata, reasoner);
        }, include: null);

        var modelTensors = file.Tensors.Where(kv => kv.Key.StartsWith(ModelPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[ModelPrefix.Length..], kv => kv.Value, StringComparer.Ordinal);
        // A LoRA run over a base checkpoint saves only its trainable tensors; the base is loaded below, after every check.
        bool trainableOnly = model is ReasonerModule && file.Metadata.ContainsKey(ModelCheckpoint.BaseKey);
        var modelPlan = ModelCheckpoint.PlanLoad(ModelTargets(model, trainableOnly), modelTensors, path, ignoreUnexpected: null);
        var applyOptimizer = OptimizerStateIO.Plan(path, file.Metadata[OptimizerKey], file.Tensors, optimizer, model);

        Tensor? rng = null;
        if (restoreRng && file.Tensors.TryGetValue(RngName, out rng))
        {
            using var current = torch.get_rng_state();
            if (rng.dtype != current.dtype || !rng.shape.SequenceEqual(current.shape))
                throw new CheckpointException(path, $"RNG state {SafeTensors.ShapeText(rng.shape)} {rng.dtype} does not fit this libtorch's generator ({SafeTensors.ShapeText(current.shape)} {current.dtype})",
                    CheckpointErrorKind.Mismatch, RngName);
        }
        var other = file.Tensors.Keys.FirstOrDefault(k => !k.StartsWith(ModelPrefix, StringComparison.Ordinal)
            && !k.StartsWith(OptimizerStateIO.Prefix, StringComparison.Ordinal) && k != RngName);
        if (other is not null)
            throw new CheckpointException(path, $"has tensor {CheckpointException.Quote(other)}, which is neither model, optimizer nor RNG state", CheckpointErrorKind.Mismatch, other);

        // Every check passed: now change things.
        if (trainableOnly) ModelCheckpoint.RestoreBase((ReasonerModule)model, file.Metadata, path);
        ModelCheckpoint.Apply(modelPlan);
        applyOptimizer();
        if (rng is not null) torch.set_rng_state(rng);
        if (model is ReasonerModule r) r.EmbedsStd = embedsStd;
        return new TrainingStateInfo(path, file.Metadata[TrainerKey], file.Metadata);
    }

    /// <summary>The tensors saved for a model: a reasoner's checkpoint tensors, or any module's parameters and persistent buffers.</summary>
    static IEnumerable<(string Name, Tensor Tensor)> ModelTargets(nn.Module model) =>
        model is ReasonerModule reasoner
            ? reasoner.CheckpointTensors()
            : model.state_dict().Select(kv => (kv.Key, kv.Value));

    static IEnumerable<(string Name, Tensor Tensor)> ModelTargets(nn.Module model, bool trainableOnly) =>
        model is ReasonerModule reasoner ? reasoner.CheckpointTensors(trainableOnly) : ModelTargets(model);
}
