using System.Globalization;
using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Checkpoints;

/// <summary>
/// Saves and loads a <see cref="ReasonerModule"/>'s weights (<see cref="ReasonerModule.CheckpointTensors()"/>,
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
    /// <summary>Metadata key of a LoRA checkpoint that holds only trainable tensors: the checkpoint its frozen weights come from.</summary>
    public const string BaseKey = "colar.base";
    /// <summary>Metadata key: the SHA-256 of that base checkpoint's data (its <c>colar.sha256</c>), so a changed base is refused.</summary>
    public const string BaseSha256Key = "colar.base_sha256";
    /// <summary>Metadata key: the LoRA options of a LoRA model ("r=128 alpha=32 targets=q,k,v,…"), for people and <c>colar export</c>.</summary>
    public const string LoraKey = "colar.lora";

    /// <summary>How deep a chain of LoRA checkpoints (each the base of the next) may go.</summary>
    const int MaxBaseDepth = 16;

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
                if (key is SpecKey or FingerprintKey or EmbedsStdKey or BaseKey or BaseSha256Key or LoraKey)
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
    /// <remarks>
    /// A LoRA checkpoint that holds only trainable tensors names its base (<c>colar.base</c>): the base's backbone
    /// weights are loaded first (<see cref="RestoreBase(ReasonerModule, IReadOnlyDictionary{string, string}, string)"/>; the base may itself be such a checkpoint), after the
    /// adapters and heads have been checked against the model.
    /// </remarks>
    public static IReadOnlyDictionary<string, string> Load(string path, ReasonerModule model, bool verify = true) => Load(path, model, verify, depth: 0);

    static IReadOnlyDictionary<string, string> Load(string path, ReasonerModule model, bool verify, int depth)
    {
        ArgumentNullException.ThrowIfNull(model);
        double embedsStd = double.NaN;
        using var scope = torch.NewDisposeScope();
        using var file = Checkpoint.Load(path, verify, header => embedsStd = CheckSpec(path, header.Metadata, model), include: null);
        bool trainableOnly = file.Metadata.ContainsKey(BaseKey);
        var plan = PlanLoad(model.CheckpointTensors(trainableOnly), file.Tensors, path, ignoreUnexpected: null);
        if (trainableOnly) RestoreBase(model, file.Metadata, path, depth);
        else model.Base = null; // every weight is in this file
        Apply(plan);
        model.EmbedsStd = embedsStd;
        return file.Metadata;
    }

    /// <summary>
    /// Loads the frozen backbone weights a trainable-only LoRA checkpoint (or training state) names in <c>colar.base</c>,
    /// after checking that the base still has the data it was trained on, and sets <see cref="ReasonerModule.Base"/>.
    /// The base is looked for where it was (an absolute path), then beside <paramref name="referencingPath"/>.
    /// </summary>
    /// <exception cref="CheckpointException">The base is missing, changed, or does not fit the backbone.</exception>
    public static void RestoreBase(ReasonerModule model, IReadOnlyDictionary<string, string> metadata, string referencingPath) =>
        RestoreBase(model, metadata, referencingPath, depth: 0);

    static void RestoreBase(ReasonerModule model, IReadOnlyDictionary<string, string> metadata, string referencingPath, int depth)
    {
        if (model.Backbone.Lora is null)
            throw new CheckpointException(referencingPath, $"holds LoRA adapters over base {metadata[BaseKey]}, but {model.Specification.Name} declares no [Lora]", CheckpointErrorKind.Mismatch);
        var recorded = metadata[BaseKey];
        metadata.TryGetValue(BaseSha256Key, out var expectedSha);
        var directory = Path.GetDirectoryName(Path.GetFullPath(referencingPath))!;
        var candidates = new[] { Path.IsPathRooted(recorded) ? recorded : Path.Combine(directory, recorded), Path.Combine(directory, Path.GetFileName(recorded)) };
        var basePath = candidates.FirstOrDefault(File.Exists)
            ?? throw new CheckpointException(referencingPath, $"holds only LoRA adapters and heads; its frozen base weights are in {recorded}, which is missing " +
                "(also beside this file). Put the base back, or merge the adapters into a full checkpoint with `colar export --merge` where both exist",
                CheckpointErrorKind.Io);
        var actualSha = SafeTensors.ReadHeader(basePath).Metadata.GetValueOrDefault(Checkpoint.Sha256Key, "");
        if (!string.IsNullOrEmpty(expectedSha) && actualSha != expectedSha)
            throw new CheckpointException(referencingPath, $"was trained over base {basePath} whose data had SHA-256 {expectedSha}, but the file now has {(actualSha.Length == 0 ? "none" : actualSha)}: " +
                "the base changed, so these adapters no longer fit it", CheckpointErrorKind.Mismatch);
        if (model.Base is { } current && current.Sha256 == actualSha && actualSha.Length > 0) return; // those weights are already loaded
        LoadBackbone(model, basePath, depth + 1);
        model.Base = new BaseCheckpoint(Path.GetFullPath(basePath), actualSha);
    }

    /// <summary>
    /// Loads only the backbone weights of a checkpoint into <paramref name="model"/>'s backbone: an imported
    /// backbone checkpoint (<c>colar import</c>), a full checkpoint of any spec over the same backbone, or a LoRA
    /// checkpoint of another spec (its base is loaded, its adapters merged). The other tensors are ignored; every
    /// backbone tensor must be there with the right shape. Heads, adapters and <see cref="ReasonerModule.Base"/> are not changed.
    /// </summary>
    /// <returns>The number of backbone tensors loaded.</returns>
    /// <exception cref="CheckpointException">The file is not usable, or was imported for another backbone, or lacks a backbone tensor.</exception>
    public static int LoadBackbone(ReasonerModule model, string path) => LoadBackbone(model, path, depth: 0);

    static int LoadBackbone(ReasonerModule model, string path, int depth)
    {
        if (depth > MaxBaseDepth)
            throw new CheckpointException(path, $"is more than {MaxBaseDepth} LoRA checkpoints deep in a chain of bases (a cycle?)", CheckpointErrorKind.Mismatch);
        var header = SafeTensors.ReadHeader(path);
        var metadata = header.Metadata;
        var backbone = model.Specification.Backbone;
        if (metadata.TryGetValue(Import.HfImporter.BackboneKey, out var importedFor) && !string.Equals(importedFor, backbone.Name, StringComparison.Ordinal))
            throw new CheckpointException(path, $"was imported for backbone '{importedFor}', but {model.Specification.Name} is built on '{backbone.Name}'", CheckpointErrorKind.Mismatch);
        var targets = model.Backbone.CheckpointTensors().ToList();
        if (metadata.ContainsKey(BaseKey))
        {
            // Adapters of another spec: build that model, load it (base first), merge its adapters, take its backbone.
            var specName = metadata.GetValueOrDefault(SpecKey) ?? throw new CheckpointException(path, $"has {BaseKey} but no {SpecKey}", CheckpointErrorKind.Format);
            var entry = ModelRegistry.TryGet(specName, out var e) ? e
                : throw new CheckpointException(path, $"holds LoRA adapters of spec '{specName}', which is not declared here; its weights cannot be merged", CheckpointErrorKind.Mismatch);
            using var other = entry.Create();
            Load(path, other, verify: true, depth);
            other.Backbone.MergeLora();
            using var scope = torch.NewDisposeScope();
            var merged = other.Backbone.CheckpointTensors().ToDictionary(t => t.Name, t => t.Tensor, StringComparer.Ordinal);
            LoadInto(targets, merged, path);
            return targets.Count;
        }
        var names = targets.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        bool verify = metadata.ContainsKey(Checkpoint.Sha256Key);
        using (var scope = torch.NewDisposeScope())
        using (var file = Checkpoint.Load(path, verify, inspect: null, include: names.Contains))
            LoadInto(targets, file.Tensors, path);
        return targets.Count;
    }

    /// <summary>
    /// Copies named tensors into named targets (views of parameters, or parameters) after checking that the
    /// sets of names agree and every shape matches; converts dtype and device. Checks everything before
    /// copying anything, so a refused load leaves the targets untouched.
    /// </summary>
    /// <param name="targets">Where each tensor goes, by name (for a model: <see cref="ReasonerModule.CheckpointTensors()"/>).</param>
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
    internal static Dictionary<string, string> SpecMetadata(ReasonerModule model)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SpecKey] = model.Specification.Name,
            [FingerprintKey] = model.Specification.Fingerprint,
            [EmbedsStdKey] = model.EmbedsStd.ToString("R", CultureInfo.InvariantCulture),
        };
        if (model.Backbone.Lora is { } lora) metadata[LoraKey] = lora.Describe();
        if (model.SavesTrainableOnly)
        {
            metadata[BaseKey] = model.Base!.Path;
            metadata[BaseSha256Key] = model.Base.Sha256;
        }
        return metadata;
    }

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
