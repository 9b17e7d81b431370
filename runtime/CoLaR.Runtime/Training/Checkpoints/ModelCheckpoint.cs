using System.Globalization;
using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Checkpoints;

/// <summary>
/// Saves and loads a <see cref="ReasonerModule"/>'s weights (<see cref="ReasonerModule.CheckpointTensors"/>,
/// under their checkpoint names) with the spec they belong to, so a checkpoint is never loaded into a model
/// of another shape, and a load either succeeds completely or changes nothing.
/// </summary>
public static class ModelCheckpoint
{
    /// <summary>Metadata key: the spec's name (the reasoner class).</summary>
    public const string SpecKey = "colar.spec";
    /// <summary>Metadata key: <see cref="ReasonerSpec.Fingerprint"/>, a hash of everything that shapes the weights.</summary>
    public const string FingerprintKey = "colar.fingerprint";
    /// <summary>Metadata key: <see cref="ReasonerModule.EmbedsStd"/> in round-trip ("R") form, or "NaN".</summary>
    public const string EmbedsStdKey = "colar.embeds_std";

    /// <summary>Writes the model's weights and spec atomically (see <see cref="Checkpoint.Save"/>).</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="model">The model; its tensors may be on any device.</param>
    /// <param name="extraMetadata">More string metadata (for example the training step); must not reuse the <c>colar.*</c> keys written here.</param>
    /// <param name="keepPrevious">Keep the replaced file as <c>path.prev</c>.</param>
    public static CheckpointInfo Save(string path, ReasonerModule model, IDictionary<string, string>? extraMetadata = null, bool keepPrevious = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (extraMetadata is not null)
            foreach (var (key, value) in extraMetadata)
            {
                if (key is SpecKey or FingerprintKey or EmbedsStdKey)
                    throw new ArgumentException($"metadata key '{key}' is reserved: ModelCheckpoint.Save sets it from the model");
                metadata[key] = value;
            }
        foreach (var (key, value) in SpecMetadata(model)) metadata[key] = value;
        return Checkpoint.Save(path, model.CheckpointTensors(), metadata, keepPrevious);
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="Save"/> into <paramref name="model"/>: the spec fingerprint must
    /// match, every tensor must be present with the right shape and no other may be; values are converted to
    /// each parameter's dtype and copied to its device. <see cref="ReasonerModule.EmbedsStd"/> is restored.
    /// Nothing in the model changes unless every check passes.
    /// </summary>
    /// <returns>The checkpoint's metadata (including any extra metadata given to <see cref="Save"/>).</returns>
    /// <exception cref="CheckpointException">The file is corrupt, or does not fit the model.</exception>
    public static IReadOnlyDictionary<string, string> Load(string path, ReasonerModule model, bool verify = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        double embedsStd = double.NaN;
        using var scope = torch.NewDisposeScope();
        using var file = Checkpoint.Load(path, verify, header => embedsStd = CheckSpec(path, header.Metadata, model), include: null);
        LoadInto(model.CheckpointTensors(), file.Tensors, path);
        model.EmbedsStd = embedsStd;
        return file.Metadata;
    }

    /// <summary>
    /// Copies named tensors into named targets (views of parameters, or parameters) after checking that the
    /// sets of names agree and every shape matches; converts dtype and device. Checks everything before
    /// copying anything, so a refused load leaves the targets untouched.
    /// </summary>
    /// <param name="targets">Where each tensor goes, by name (for a model: <see cref="ReasonerModule.CheckpointTensors"/>).</param>
    /// <param name="tensors">The tensors to load, by name.</param>
    /// <param name="source">The file (or other source) named in error messages.</param>
    /// <param name="ignoreUnexpected">Names present in <paramref name="tensors"/> that the targets lack but may be skipped
    /// (for example a tied <c>lm_head.weight</c> in an imported checkpoint); by default any extra tensor is an error.</param>
    /// <exception cref="CheckpointException">A tensor is missing, unexpected or of the wrong shape.</exception>
    public static void LoadInto(IEnumerable<(string Name, Tensor Target)> targets, IReadOnlyDictionary<string, Tensor> tensors, string source,
        Func<string, bool>? ignoreUnexpected = null) =>
        Apply(PlanLoad(targets, tensors, source, ignoreUnexpected));

    /// <summary>The checks of <see cref="LoadInto"/>: returns the copies to make, or throws without changing anything.</summary>
    internal static List<(Tensor Target, Tensor Source)> PlanLoad(IEnumerable<(string Name, Tensor Target)> targets, IReadOnlyDictionary<string, Tensor> tensors, string source,
        Func<string, bool>? ignoreUnexpected)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(tensors);
        var plan = new List<(Tensor Target, Tensor Source)>();
        var missing = new List<string>();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, target) in targets)
        {
            if (!wanted.Add(name)) throw new ArgumentException($"target {CheckpointException.Quote(name)} is listed twice");
            if (!tensors.TryGetValue(name, out var tensor)) { missing.Add(name); continue; }
            if (!target.shape.SequenceEqual(tensor.shape))
                throw new CheckpointException(source, $"tensor {CheckpointException.Quote(name)} has shape {SafeTensors.ShapeText(tensor.shape)} but the model expects {SafeTensors.ShapeText(target.shape)}",
                    CheckpointErrorKind.Mismatch, name);
            plan.Add((target, tensor));
        }
        if (missing.Count > 0)
            throw new CheckpointException(source, $"lacks {Count(missing.Count, "tensor")} the model needs: {List(missing)}", CheckpointErrorKind.Mismatch, missing[0]);
        var unexpected = tensors.Keys.Where(k => !wanted.Contains(k) && !(ignoreUnexpected?.Invoke(k) ?? false)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new CheckpointException(source, $"has {Count(unexpected.Count, "tensor")} the model does not: {List(unexpected)}", CheckpointErrorKind.Mismatch, unexpected[0]);
        return plan;
    }

    /// <summary>Makes the copies planned by <see cref="PlanLoad"/>.</summary>
    internal static void Apply(IEnumerable<(Tensor Target, Tensor Source)> plan)
    {
        using var noGrad = torch.no_grad();
        foreach (var (target, tensor) in plan)
            target.copy_(tensor); // converts dtype and device; writes through views into the parameters
    }

    /// <summary>The <c>colar.spec</c>, <c>colar.fingerprint</c> and <c>colar.embeds_std</c> entries for a model.</summary>
    internal static Dictionary<string, string> SpecMetadata(ReasonerModule model) => new(StringComparer.Ordinal)
    {
        [SpecKey] = model.Specification.Name,
        [FingerprintKey] = model.Specification.Fingerprint,
        [EmbedsStdKey] = model.EmbedsStd.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Refuses a checkpoint saved from another spec; returns its embeds_std.</summary>
    internal static double CheckSpec(string path, IReadOnlyDictionary<string, string> metadata, ReasonerModule model)
    {
        var spec = model.Specification;
        if (!metadata.TryGetValue(FingerprintKey, out var fingerprint))
            throw new CheckpointException(path, $"has no {FingerprintKey} metadata, so it is not a CoLaR model checkpoint (import Hugging Face weights with the importer instead)",
                CheckpointErrorKind.Mismatch);
        metadata.TryGetValue(SpecKey, out var savedSpec);
        if (fingerprint != spec.Fingerprint)
        {
            var detail = $"was saved from spec {CheckpointException.Quote(savedSpec ?? "?")} (fingerprint {CheckpointException.Quote(fingerprint)[1..^1]}) but the model is '{spec.Name}' ({spec.Fingerprint})";
            throw new CheckpointException(path, detail, CheckpointErrorKind.Mismatch, null, $"checkpoint {path} {detail}", null);
        }
        if (!metadata.TryGetValue(EmbedsStdKey, out var stdText))
            throw new CheckpointException(path, $"metadata {EmbedsStdKey} is missing", CheckpointErrorKind.Format);
        if (!double.TryParse(stdText, NumberStyles.Float, CultureInfo.InvariantCulture, out var std))
            throw new CheckpointException(path, $"metadata {EmbedsStdKey} = {CheckpointException.Quote(stdText)} is not a number", CheckpointErrorKind.Format);
        return std;
    }

    static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(5).Select(CheckpointException.Quote)) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");
}
