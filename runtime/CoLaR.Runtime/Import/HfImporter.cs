using System.Globalization;
using System.Text.RegularExpressions;
using CoLaR.Checkpoints;
using CoLaR.Modules;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Import;

/// <summary>What to import and which declared backbone it must fit.</summary>
public sealed record ImportRequest
{
    /// <summary>The Hugging Face checkpoint directory (config.json, model.safetensors or its sharded index, tokenizer files).</summary>
    public required string Source { get; init; }
    /// <summary>The checkpoint to write (our safetensors format).</summary>
    public required string Output { get; init; }
    /// <summary>The declared backbone to check against; null: the one declared backbone the config matches.</summary>
    public string? Backbone { get; init; }
}

/// <summary>What an import wrote.</summary>
public sealed record ImportResult(
    string Output,
    BackboneConfig Backbone,
    HfConfig Config,
    int Tensors,
    IReadOnlyList<string> SourceDTypes,
    int AddedRows,
    string? Tokenizer,
    IReadOnlyList<string> CopiedFiles,
    double EmbedsStd,
    IReadOnlyList<string> Notes);

/// <summary>
/// <c>colar import</c>: turns a Hugging Face checkpoint directory (Llama, Qwen2, Qwen3, GPT-2) into a
/// <b>backbone checkpoint</b>: the backbone's tensors under their Hugging Face names (which are our checkpoint
/// names), in their stored dtypes, with metadata naming the declared backbone (<c>colar.backbone</c>) and the
/// embedding table's std (<c>colar.embeds_std</c>). Every reasoner over that backbone starts from it with
/// <c>--init</c> (<see cref="Runs.Initialization"/>), and the tokenizer files are copied beside it for
/// <c>Tokenizer = "checkpoint"</c>.
/// <para>
/// Everything is checked before anything is written: the config against the declared backbone (every
/// differing field named), every tensor's name, dtype (F32, F16, BF16) and shape, tied LM heads, the
/// tokenizer. A failure names the tensor (or field, or file) and leaves no output.
/// </para>
/// </summary>
public static class HfImporter
{
    /// <summary>Metadata key: <c>"backbone"</c> for an imported checkpoint.</summary>
    public const string KindKey = "colar.kind";
    public const string BackboneKind = "backbone";
    /// <summary>Metadata key: the declared backbone the checkpoint fits.</summary>
    public const string BackboneKey = "colar.backbone";
    /// <summary>Metadata key: the Hugging Face directory it came from.</summary>
    public const string SourceKey = "colar.source";
    /// <summary>Metadata key: token rows appended to the embedding table (and untied LM head) for tokens the tokenizer adds.</summary>
    public const string AddedRowsKey = "colar.import.added_rows";

    static readonly Regex Gpt2AttentionBuffer = new(@"^transformer\.h\.\d+\.attn\.(bias|masked_bias)$", RegexOptions.CultureInvariant);

    /// <summary>The backbones of every declared reasoner (what import can target), by name.</summary>
    public static IReadOnlyList<BackboneConfig> DeclaredBackbones() =>
        ModelRegistry.All.Select(e => e.Spec.Backbone).GroupBy(b => b.Name, StringComparer.Ordinal).Select(g => g.First())
            .OrderBy(b => b.Name, StringComparer.Ordinal).ToList();

    /// <summary>Imports; see the class summary.</summary>
    /// <param name="request">Source, output, optional backbone name.</param>
    /// <param name="backbones">The backbones to choose from (default: <see cref="DeclaredBackbones"/>).</param>
    /// <exception cref="CheckpointException">Anything about the source that does not fit; nothing is written.</exception>
    /// <exception cref="KeyNotFoundException">The named backbone is not declared.</exception>
    public static ImportResult Import(ImportRequest request, IReadOnlyList<BackboneConfig>? backbones = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var source = Path.GetFullPath(request.Source);
        var output = Path.GetFullPath(request.Output);
        if (!Directory.Exists(source))
            throw new CheckpointException(request.Source, "is not a directory: pass the Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer files)", CheckpointErrorKind.Io);
        var notes = new List<string>();

        // 1. The config, and the tokenizer (its size decides whether token rows are added).
        var hf = HfConfig.Read(Path.Combine(source, "config.json"));
        HfTokenizer? tokenizer = null;
        if (TokenizerFiles.Present(source)) tokenizer = LoadTokenizer(source);
        else notes.Add("no tokenizer files (tokenizer.json, or vocab.json + merges.txt): a reasoner with Tokenizer = \"checkpoint\" cannot use this checkpoint");
        int addedRows = tokenizer is null ? 0 : Math.Max(0, tokenizer.VocabularySize - hf.Config.Vocab);

        // 2. The declared backbone.
        var backbone = SelectBackbone(hf, addedRows, request.Backbone, backbones ?? DeclaredBackbones());

        // 3. Tensor names, dtypes and shapes, from the headers alone.
        var weights = HfWeights.Open(source);
        var plan = Plan(weights, hf, backbone, addedRows, notes);

        // 4. The output must not clobber the source or another checkpoint's tokenizer.
        if (weights.Files.Any(f => string.Equals(Path.GetFullPath(f), output, StringComparison.Ordinal)))
            throw new CheckpointException(request.Output, "is one of the source's weight files; write the import elsewhere", CheckpointErrorKind.Io);
        var outputDirectory = Path.GetDirectoryName(output)!;
        if (tokenizer is not null && TokenizerFiles.Conflicts(source, outputDirectory) is { Count: > 0 } conflicts)
            throw new CheckpointException(conflicts[0], $"exists and differs from the source's {Path.GetFileName(conflicts[0])} (another checkpoint's tokenizer?); " +
                "import into a directory of its own", CheckpointErrorKind.Io);

        // 5. Read the data, check a tied head, add token rows, then write.
        using var scope = torch.NewDisposeScope();
        var tensors = ReadTensors(weights, plan);
        var embeddingName = BackboneLayout.EmbeddingName(backbone.Family);
        if (plan.TiedHead is { } tiedHead)
        {
            var head = tensors[BackboneLayout.LmHeadName];
            if (!head.to(ScalarType.Float32).equal(tensors[embeddingName].to(ScalarType.Float32)).all().item<bool>())
                throw new CheckpointException(tiedHead.File,
                    $"tensor '{BackboneLayout.LmHeadName}' differs from '{TensorOriginalName(plan, embeddingName)}', but config.json says tie_word_embeddings = true and {backbone.Name} ties them; " +
                    "a separate LM head needs a backbone declared with TieEmbeddings = false", CheckpointErrorKind.Mismatch, BackboneLayout.LmHeadName);
            tensors.Remove(BackboneLayout.LmHeadName);
            notes.Add($"'{BackboneLayout.LmHeadName}' equals the token embedding (tied): not stored");
        }
        if (addedRows > 0)
        {
            tensors[embeddingName] = AddMeanRows(tensors[embeddingName], addedRows);
            if (!backbone.TieEmbeddings) tensors[BackboneLayout.LmHeadName] = AddMeanRows(tensors[BackboneLayout.LmHeadName], addedRows);
            notes.Add($"{addedRows} token row{(addedRows == 1 ? "" : "s")} appended to the embedding{(backbone.TieEmbeddings ? "" : " and LM head")} " +
                      $"(mean of the existing rows) for the tokenizer's {(tokenizer!.PadAdded ? "added [PAD]" : "extra tokens")}: vocabulary {hf.Config.Vocab} → {backbone.Vocab}");
        }
        double embedsStd = tensors[embeddingName].to(ScalarType.Float32).std().ToDouble();

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [KindKey] = BackboneKind,
            [BackboneKey] = backbone.Name,
            ["colar.backbone_family"] = backbone.Family.ToString(),
            [ModelCheckpoint.EmbedsStdKey] = embedsStd.ToString("R", CultureInfo.InvariantCulture),
            [SourceKey] = source,
            [AddedRowsKey] = addedRows.ToString(CultureInfo.InvariantCulture),
        };
        if (tokenizer is not null) metadata["colar.import.pad_id"] = tokenizer.PadId.ToString(CultureInfo.InvariantCulture);
        var copied = tokenizer is null ? [] : TokenizerFiles.Copy(source, outputDirectory);
        var ordered = BackboneLayout.Expected(backbone).Select(slot => (slot.Name, tensors[slot.Name])).ToList();
        Checkpoint.Save(output, ordered, metadata);
        var dtypes = plan.Entries.Select(e => e.Source.Entry.DType.ToString()).Distinct().OrderBy(d => d, StringComparer.Ordinal).ToList();
        return new ImportResult(output, backbone, hf, ordered.Count, dtypes, addedRows, tokenizer?.Name, copied, embedsStd, notes);
    }

    /// <summary>Our name for a Hugging Face tensor name, or null for a buffer that is not a weight (rotary inv_freq, GPT-2's causal mask).</summary>
    public static string? MapName(string name, BackboneFamily family)
    {
        if (name == BackboneLayout.LmHeadName) return name;
        if (family == BackboneFamily.Gpt2)
        {
            // GPT2LMHeadModel saves "transformer.h.0…"; GPT2Model (and the original upload) "h.0…".
            var mapped = name.StartsWith("transformer.", StringComparison.Ordinal) ? name : "transformer." + name;
            return Gpt2AttentionBuffer.IsMatch(mapped) ? null : mapped;
        }
        if (name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) return null;
        // LlamaForCausalLM saves "model.layers.0…"; LlamaModel "layers.0…".
        return name.StartsWith("model.", StringComparison.Ordinal) ? name : "model." + name;
    }

    // ------------------------------------------------------------------ selection

    static BackboneConfig SelectBackbone(HfConfig hf, int addedRows, string? name, IReadOnlyList<BackboneConfig> declared)
    {
        var configPath = hf.Path;
        if (name is not null)
        {
            var chosen = declared.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new KeyNotFoundException($"no declared backbone is named '{name}'; declared backbones (of declared reasoners): " +
                                                  (declared.Count == 0 ? "(none)" : string.Join(", ", declared.Select(b => b.Name))));
            var differences = hf.Differences(chosen, addedRows);
            if (differences.Count > 0)
                throw new CheckpointException(configPath, $"does not match backbone '{chosen.Name}': {string.Join("; ", differences)}", CheckpointErrorKind.Mismatch);
            return chosen;
        }
        var sameFamily = declared.Where(b => b.Family == hf.Family).ToList();
        if (sameFamily.Count == 0)
            throw new CheckpointException(configPath, $"is a {hf.Family} checkpoint but no {hf.Family} backbone is declared" +
                (declared.Count == 0 ? "" : $" (declared: {string.Join(", ", declared.Select(b => $"{b.Name} ({b.Family})"))})") +
                $"; declare one with [{hf.Family}(...)] and the config's sizes, and a reasoner over it", CheckpointErrorKind.Mismatch);
        var matches = sameFamily.Where(b => hf.Differences(b, addedRows).Count == 0).ToList();
        if (matches.Count == 1) return matches[0];
        if (matches.Count > 1)
            throw new CheckpointException(configPath, $"matches several declared backbones ({string.Join(", ", matches.Select(b => b.Name))}); choose one with --backbone", CheckpointErrorKind.Mismatch);
        var closest = sameFamily.Select(b => (Backbone: b, Differences: hf.Differences(b, addedRows))).OrderBy(x => x.Differences.Count).ToList();
        throw new CheckpointException(configPath, $"matches no declared {hf.Family} backbone: " +
            string.Join(" | ", closest.Select(x => $"{x.Backbone.Name}: {string.Join("; ", x.Differences)}")), CheckpointErrorKind.Mismatch);
    }

    static HfTokenizer LoadTokenizer(string directory)
    {
        try
        {
            return HfTokenizer.Load(directory);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or FileNotFoundException)
        {
            throw new CheckpointException(directory, $"its tokenizer cannot be used: {e.Message}", CheckpointErrorKind.Format, inner: e);
        }
    }

    // ------------------------------------------------------------------ checks

    sealed record PlannedTensor(string Name, HfTensor Source);

    sealed record ImportPlan(IReadOnlyList<PlannedTensor> Entries, HfTensor? TiedHead);

    static string TensorOriginalName(ImportPlan plan, string name) => plan.Entries.FirstOrDefault(e => e.Name == name)?.Source.Name ?? name;

    /// <summary>Every check that needs no tensor data; returns what to read.</summary>
    static ImportPlan Plan(HfWeights weights, HfConfig hf, BackboneConfig backbone, int addedRows, List<string> notes)
    {
        // The shapes the files must have: the spec's, with the vocabulary before any added rows.
        var expected = BackboneLayout.Expected(backbone with { Vocab = backbone.Vocab - addedRows }).ToDictionary(s => s.Name, StringComparer.Ordinal);
        var mapped = new Dictionary<string, HfTensor>(StringComparer.Ordinal);
        var ignored = new List<string>();
        foreach (var tensor in weights.Tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var name = MapName(tensor.Name, backbone.Family);
            if (name is null) { ignored.Add(tensor.Name); continue; }
            if (mapped.TryGetValue(name, out var first))
                throw new CheckpointException(tensor.File, $"tensors {Q(first.Name)} and {Q(tensor.Name)} are both {Q(name)}", CheckpointErrorKind.Mismatch, tensor.Name);
            mapped[name] = tensor;
        }
        if (ignored.Count > 0) notes.Add($"{ignored.Count} non-weight buffer{(ignored.Count == 1 ? "" : "s")} ignored ({Q(ignored[0])}{(ignored.Count > 1 ? ", …" : "")})");

        HfTensor? tiedHead = null;
        if (backbone.TieEmbeddings && mapped.Remove(BackboneLayout.LmHeadName, out var head))
        {
            var embedding = expected[BackboneLayout.EmbeddingName(backbone.Family)];
            if (!head.Entry.Shape.SequenceEqual(embedding.Shape))
                throw Mismatch(head, $"tensor {Q(head.Name)} has shape {head.Entry.ShapeText} but the tied embedding it must equal is {embedding.ShapeText}");
            tiedHead = head;
        }

        var wrongDType = mapped.Values.Where(t => t.Entry.DType is not (SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16)).ToList();
        if (tiedHead is not null && tiedHead.Entry.DType is not (SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16)) wrongDType.Insert(0, tiedHead);
        if (wrongDType.Count > 0)
            throw Mismatch(wrongDType[0], $"tensor {Q(wrongDType[0].Name)} is {wrongDType[0].Entry.DType}; only F32, F16 and BF16 weights are imported (quantised checkpoints are not supported)" +
                More(wrongDType.Count));

        var problems = new List<(HfTensor? Tensor, string Name, string Text)>();
        foreach (var slot in expected.Values)
            if (!mapped.ContainsKey(slot.Name))
                problems.Add((null, slot.Name, $"tensor {Q(slot.Name)} (shape {slot.ShapeText}) is missing"));
        foreach (var (name, tensor) in mapped)
        {
            if (!expected.TryGetValue(name, out var slot))
                problems.Add((tensor, tensor.Name, $"tensor {Q(tensor.Name)} (shape {tensor.Entry.ShapeText}) is not part of backbone '{backbone.Name}'" +
                    (name == BackboneLayout.LmHeadName ? " (it ties its LM head to the embedding)" : "")));
            else if (!tensor.Entry.Shape.SequenceEqual(slot.Shape))
                problems.Add((tensor, tensor.Name, $"tensor {Q(tensor.Name)} has shape {tensor.Entry.ShapeText} but backbone '{backbone.Name}' expects {slot.ShapeText}"));
        }
        if (problems.Count > 0)
        {
            var first = problems[0];
            var path = first.Tensor?.File ?? (weights.Files.Count == 1 ? weights.Files[0] : weights.Directory);
            throw new CheckpointException(path, string.Join("; ", problems.Take(5).Select(p => p.Text)) + More(problems.Count, 5), CheckpointErrorKind.Mismatch, first.Name);
        }
        var entries = expected.Keys.Select(name => new PlannedTensor(name, mapped[name])).ToList();
        return new ImportPlan(entries, tiedHead);
    }

    static Dictionary<string, Tensor> ReadTensors(HfWeights weights, ImportPlan plan)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var wanted = plan.Entries.Select(e => (e.Name, e.Source)).ToList();
        if (plan.TiedHead is { } head) wanted.Add((BackboneLayout.LmHeadName, head));
        foreach (var group in wanted.GroupBy(w => w.Source.File))
        {
            var names = group.ToDictionary(w => w.Source.Name, w => w.Name, StringComparer.Ordinal);
            using var file = SafeTensors.Load(group.Key, include: names.ContainsKey);
            foreach (var (hfName, ours) in names)
                result[ours] = file[hfName].clone(); // kept by the caller's dispose scope
        }
        return result;
    }

    /// <summary>Appends <paramref name="rows"/> rows equal to the mean of the existing ones (a neutral start for a token never seen in pre-training).</summary>
    static Tensor AddMeanRows(Tensor table, int rows)
    {
        var mean = table.to(ScalarType.Float32).mean(new long[] { 0 }, keepdim: true).expand(rows, -1).to(table.dtype);
        return torch.cat(new[] { table, mean }, 0);
    }

    static CheckpointException Mismatch(HfTensor tensor, string detail) => new(tensor.File, detail, CheckpointErrorKind.Mismatch, tensor.Name);

    static string More(int count, int shown = 1) => count > shown ? $" (and {count - shown} more)" : "";

    static string Q(string s) => CheckpointException.Quote(s);
}
