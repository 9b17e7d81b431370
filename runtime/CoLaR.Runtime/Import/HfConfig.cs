using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoLaR.Checkpoints;
using CoLaR.Modules;

namespace CoLaR.Import;

/// <summary>One field where a Hugging Face config and a declared backbone disagree.</summary>
/// <param name="HfKey">The config.json key ("num_key_value_heads").</param>
/// <param name="HfValue">Its value in config.json.</param>
/// <param name="SpecProperty">The backbone attribute's property ("KvHeads").</param>
/// <param name="SpecValue">The declared value.</param>
public sealed record ConfigDifference(string HfKey, string HfValue, string SpecProperty, string SpecValue)
{
    public override string ToString() => $"{HfKey} = {HfValue} but {SpecProperty} = {SpecValue}";
}

/// <summary>
/// A Hugging Face <c>config.json</c> of a supported family (Llama, Qwen2, Qwen3, GPT-2), read into the
/// numbers a backbone spec declares. Features the generated backbones do not implement (attention or MLP
/// biases on Llama, sliding-window attention, RoPE scaling other than Llama-3's, another activation) are
/// refused when reading, naming the key.
/// </summary>
public sealed class HfConfig
{
    /// <summary>The model_type values and architectures each family accepts.</summary>
    public static readonly IReadOnlyDictionary<string, BackboneFamily> ModelTypes = new Dictionary<string, BackboneFamily>(StringComparer.Ordinal)
    {
        ["llama"] = BackboneFamily.Llama, ["qwen2"] = BackboneFamily.Qwen2, ["qwen3"] = BackboneFamily.Qwen3, ["gpt2"] = BackboneFamily.Gpt2,
    };

    static readonly IReadOnlyDictionary<string, BackboneFamily> Architectures = new Dictionary<string, BackboneFamily>(StringComparer.Ordinal)
    {
        ["LlamaForCausalLM"] = BackboneFamily.Llama, ["LlamaModel"] = BackboneFamily.Llama,
        ["Qwen2ForCausalLM"] = BackboneFamily.Qwen2, ["Qwen2Model"] = BackboneFamily.Qwen2,
        ["Qwen3ForCausalLM"] = BackboneFamily.Qwen3, ["Qwen3Model"] = BackboneFamily.Qwen3,
        ["GPT2LMHeadModel"] = BackboneFamily.Gpt2, ["GPT2Model"] = BackboneFamily.Gpt2,
    };

    HfConfig(string path, string modelType, BackboneConfig config, string? torchDtype)
    {
        Path = path;
        ModelType = modelType;
        Config = config;
        TorchDtype = torchDtype;
    }

    /// <summary>The config.json file.</summary>
    public string Path { get; }

    /// <summary>config.json's model_type.</summary>
    public string ModelType { get; }

    /// <summary>The config's numbers as a backbone config (Name "config.json"; Vocab = vocab_size).</summary>
    public BackboneConfig Config { get; }

    /// <summary>config.json's torch_dtype, if any (informational: the tensors' own dtypes are what is read).</summary>
    public string? TorchDtype { get; }

    public BackboneFamily Family => Config.Family;

    /// <summary>Reads and checks a config.json.</summary>
    /// <exception cref="CheckpointException">The file is missing or malformed, or declares an architecture or feature that is not supported (the message names the key).</exception>
    public static HfConfig Read(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException(path, "not found: a Hugging Face checkpoint directory has a config.json", CheckpointErrorKind.Io);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"is not valid JSON ({e.Message})", CheckpointErrorKind.Format, inner: e);
        }
        if (root.ValueKind != JsonValueKind.Object) throw new CheckpointException(path, "is not a JSON object", CheckpointErrorKind.Format);
        var reader = new Reader(path, root);

        string? modelType = reader.String("model_type");
        var architectures = reader.StringList("architectures");
        BackboneFamily family;
        if (modelType is not null && ModelTypes.TryGetValue(modelType, out var byType)) family = byType;
        else if (modelType is null && architectures.FirstOrDefault(a => Architectures.ContainsKey(a)) is { } arch) family = Architectures[arch];
        else
            throw reader.Unsupported("model_type", $"architecture {Q(modelType ?? string.Join(", ", architectures))} is not supported; " +
                $"supported: model_type {string.Join(", ", ModelTypes.Keys)} ({string.Join(", ", Architectures.Keys.Where(k => k.EndsWith("ForCausalLM", StringComparison.Ordinal) || k == "GPT2LMHeadModel"))})");
        foreach (var a in architectures)
            if (!Architectures.TryGetValue(a, out var f) || f != family)
                throw reader.Unsupported("architectures", $"architecture {Q(a)} is not supported for model_type {Q(modelType ?? "?")}");

        var config = family == BackboneFamily.Gpt2 ? ReadGpt2(reader) : ReadRotary(reader, family);
        return new HfConfig(path, modelType ?? family.ToString().ToLowerInvariant(), config, reader.String("torch_dtype") ?? reader.String("dtype"));
    }

    static BackboneConfig ReadGpt2(Reader r)
    {
        int hidden = r.Int("n_embd");
        int heads = r.Int("n_head");
        int intermediate = r.OptionalInt("n_inner") ?? 4 * hidden;
        string activation = r.String("activation_function") ?? "gelu_new";
        if (activation is not ("gelu_new" or "gelu_pytorch_tanh"))
            throw r.Unsupported("activation_function", $"activation {Q(activation)} is not supported; GPT-2 backbones use the tanh GELU (gelu_new)");
        if (r.Bool("scale_attn_by_inverse_layer_idx") == true) throw r.Unsupported("scale_attn_by_inverse_layer_idx", "scaling attention by the inverse layer index is not supported");
        if (r.Bool("reorder_and_upcast_attn") == true) throw r.Unsupported("reorder_and_upcast_attn", "reordered, upcast attention is not supported");
        if (r.Bool("scale_attn_weights") == false) throw r.Unsupported("scale_attn_weights", "unscaled attention is not supported");
        if (hidden % Math.Max(heads, 1) != 0) throw r.Unsupported("n_head", $"n_embd {hidden} is not divisible by n_head {heads}");
        return new BackboneConfig("config.json", BackboneFamily.Gpt2,
            Vocab: r.Int("vocab_size"), Hidden: hidden, Layers: r.Int("n_layer"), Heads: heads, KvHeads: heads, HeadDim: hidden / Math.Max(heads, 1),
            Intermediate: intermediate, MaxPositions: r.OptionalInt("n_positions") ?? 1024, NormEps: r.OptionalDouble("layer_norm_epsilon") ?? 1e-5,
            TieEmbeddings: r.Bool("tie_word_embeddings") ?? true);
    }

    static BackboneConfig ReadRotary(Reader r, BackboneFamily family)
    {
        int hidden = r.Int("hidden_size");
        int heads = r.Int("num_attention_heads");
        int kvHeads = r.OptionalInt("num_key_value_heads") ?? heads;
        int headDim = r.OptionalInt("head_dim") ?? (family == BackboneFamily.Qwen3 ? 128 : hidden / Math.Max(heads, 1));
        string activation = r.String("hidden_act") ?? "silu";
        if (activation != "silu") throw r.Unsupported("hidden_act", $"activation {Q(activation)} is not supported; rotary backbones use SwiGLU (silu)");
        if (family != BackboneFamily.Qwen2 && r.Bool("attention_bias") == true) throw r.Unsupported("attention_bias", $"attention biases are not supported on {family} (Qwen2 has Q/K/V biases)");
        if (r.Bool("mlp_bias") == true) throw r.Unsupported("mlp_bias", "MLP biases are not supported");
        if (r.Bool("use_sliding_window") == true) throw r.Unsupported("use_sliding_window", "sliding-window attention is not supported");
        if (r.OptionalDouble("attention_dropout") is > 0) throw r.Unsupported("attention_dropout", "attention dropout is not supported");
        if (r.OptionalInt("pretraining_tp") is > 1) throw r.Unsupported("pretraining_tp", "tensor-parallel pre-training slices (pretraining_tp > 1) are not supported");

        // transformers ≥ 4.56 may group rope_theta and rope_scaling into rope_parameters.
        var (ropeTheta, scaling) = ReadRope(r);
        return new BackboneConfig("config.json", family,
            Vocab: r.Int("vocab_size"), Hidden: hidden, Layers: r.Int("num_hidden_layers"), Heads: heads, KvHeads: kvHeads, HeadDim: headDim,
            Intermediate: r.Int("intermediate_size"), MaxPositions: r.OptionalInt("max_position_embeddings") ?? 2048,
            NormEps: r.OptionalDouble("rms_norm_eps") ?? 1e-6, TieEmbeddings: r.Bool("tie_word_embeddings") ?? false,
            RopeTheta: ropeTheta, RopeScaling: scaling);
    }

    static (double Theta, RopeScaling? Scaling) ReadRope(Reader r)
    {
        var parameters = r.Object("rope_parameters");
        var scalingElement = parameters ?? r.Object("rope_scaling");
        double theta = (parameters is { } p ? new Reader(r.Path, p).OptionalDouble("rope_theta") : null) ?? r.OptionalDouble("rope_theta") ?? 10_000;
        if (scalingElement is not { } s) return (theta, null);
        var sr = new Reader(r.Path, s);
        string key = parameters is null ? "rope_scaling" : "rope_parameters";
        string type = sr.String("rope_type") ?? sr.String("type") ?? "default";
        if (type == "default") return (theta, null);
        if (type != "llama3")
            throw r.Unsupported(key, $"RoPE scaling type {Q(type)} is not supported; only Llama-3 scaling (rope_type \"llama3\") is");
        return (theta, new RopeScaling(
            Factor: sr.Double("factor"), LowFreqFactor: sr.OptionalDouble("low_freq_factor") ?? 1, HighFreqFactor: sr.OptionalDouble("high_freq_factor") ?? 4,
            OriginalMaxPositions: sr.OptionalInt("original_max_position_embeddings") ?? 8192));
    }

    /// <summary>
    /// Where this config and a declared backbone disagree. <paramref name="addedRows"/> token rows the import
    /// appends (a [PAD] token the tokenizer adds beyond vocab_size): the spec's Vocab must be vocab_size + addedRows.
    /// A rotary backbone may declare fewer MaxPositions than max_position_embeddings (a shorter context); GPT-2's
    /// learned position table must match exactly.
    /// </summary>
    public IReadOnlyList<ConfigDifference> Differences(BackboneConfig spec, int addedRows = 0)
    {
        var c = Config;
        var d = new List<ConfigDifference>();
        bool gpt2 = c.Family == BackboneFamily.Gpt2;
        void Int(string hfKey, long hf, string prop, long value)
        {
            if (hf != value) d.Add(new ConfigDifference(hfKey, hf.ToString(CultureInfo.InvariantCulture), prop, value.ToString(CultureInfo.InvariantCulture)));
        }
        if (spec.Family != c.Family) d.Add(new ConfigDifference("model_type", ModelType, "family", spec.Family.ToString()));
        if (c.Vocab + addedRows != spec.Vocab)
            d.Add(new ConfigDifference("vocab_size",
                c.Vocab.ToString(CultureInfo.InvariantCulture) + (addedRows > 0 ? $" (+{addedRows} token row{(addedRows == 1 ? "" : "s")} the tokenizer adds = {c.Vocab + addedRows})" : ""),
                "Vocab", spec.Vocab.ToString(CultureInfo.InvariantCulture)));
        Int(gpt2 ? "n_embd" : "hidden_size", c.Hidden, "Hidden", spec.Hidden);
        Int(gpt2 ? "n_layer" : "num_hidden_layers", c.Layers, "Layers", spec.Layers);
        Int(gpt2 ? "n_head" : "num_attention_heads", c.Heads, "Heads", spec.Heads);
        if (!gpt2)
        {
            Int("num_key_value_heads", c.KvHeads, "KvHeads", spec.KvHeads);
            Int("head_dim", c.HeadDim, "HeadDim", spec.HeadDim);
        }
        Int(gpt2 ? "n_inner" : "intermediate_size", c.Intermediate, "Intermediate", spec.Intermediate);
        if (gpt2) Int("n_positions", c.MaxPositions, "MaxPositions", spec.MaxPositions);
        else if (spec.MaxPositions > c.MaxPositions)
            d.Add(new ConfigDifference("max_position_embeddings", c.MaxPositions.ToString(CultureInfo.InvariantCulture), "MaxPositions",
                spec.MaxPositions.ToString(CultureInfo.InvariantCulture) + " (more than the checkpoint was trained for)"));
        if (!Close(c.NormEps, spec.NormEps)) d.Add(new ConfigDifference(gpt2 ? "layer_norm_epsilon" : "rms_norm_eps", Num(c.NormEps), "NormEps", Num(spec.NormEps)));
        if (c.TieEmbeddings != spec.TieEmbeddings)
            d.Add(new ConfigDifference("tie_word_embeddings", c.TieEmbeddings ? "true" : "false", "TieEmbeddings", spec.TieEmbeddings ? "true" : "false"));
        if (!gpt2)
        {
            if (!Close(c.RopeTheta, spec.RopeTheta)) d.Add(new ConfigDifference("rope_theta", Num(c.RopeTheta), "RopeTheta", Num(spec.RopeTheta)));
            var (hs, ss) = (c.RopeScaling, spec.RopeScaling);
            if (hs is null != ss is null)
                d.Add(new ConfigDifference("rope_scaling", hs is null ? "null" : $"llama3 factor {Num(hs.Factor)}", "RopeScaling", ss is null ? "0 (off)" : Num(ss.Factor)));
            else if (hs is not null && ss is not null)
            {
                if (!Close(hs.Factor, ss.Factor)) d.Add(new ConfigDifference("rope_scaling.factor", Num(hs.Factor), "RopeScaling", Num(ss.Factor)));
                if (!Close(hs.LowFreqFactor, ss.LowFreqFactor)) d.Add(new ConfigDifference("rope_scaling.low_freq_factor", Num(hs.LowFreqFactor), "RopeLowFreqFactor", Num(ss.LowFreqFactor)));
                if (!Close(hs.HighFreqFactor, ss.HighFreqFactor)) d.Add(new ConfigDifference("rope_scaling.high_freq_factor", Num(hs.HighFreqFactor), "RopeHighFreqFactor", Num(ss.HighFreqFactor)));
                if (hs.OriginalMaxPositions != ss.OriginalMaxPositions)
                    d.Add(new ConfigDifference("rope_scaling.original_max_position_embeddings", hs.OriginalMaxPositions.ToString(CultureInfo.InvariantCulture),
                        "RopeOriginalMaxPositions", ss.OriginalMaxPositions.ToString(CultureInfo.InvariantCulture)));
            }
        }
        return d;
    }

    /// <summary>
    /// The config.json of a backbone, as transformers writes it for the family (what <c>colar export --hf</c> writes
    /// beside the weights; <see cref="Read"/> reads it back to the same numbers).
    /// </summary>
    public static JsonObject ToJson(BackboneConfig c, string torchDtype = "float32")
    {
        if (c.Family == BackboneFamily.Gpt2)
            return new JsonObject
            {
                ["architectures"] = new JsonArray("GPT2LMHeadModel"), ["model_type"] = "gpt2", ["activation_function"] = "gelu_new",
                ["n_embd"] = c.Hidden, ["n_layer"] = c.Layers, ["n_head"] = c.Heads, ["n_inner"] = c.Intermediate,
                ["n_positions"] = c.MaxPositions, ["n_ctx"] = c.MaxPositions, ["vocab_size"] = c.Vocab,
                ["layer_norm_epsilon"] = c.NormEps, ["tie_word_embeddings"] = c.TieEmbeddings, ["torch_dtype"] = torchDtype,
            };
        var (architecture, modelType) = c.Family switch
        {
            BackboneFamily.Qwen2 => ("Qwen2ForCausalLM", "qwen2"),
            BackboneFamily.Qwen3 => ("Qwen3ForCausalLM", "qwen3"),
            _ => ("LlamaForCausalLM", "llama"),
        };
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(architecture), ["model_type"] = modelType, ["hidden_act"] = "silu",
            ["hidden_size"] = c.Hidden, ["num_hidden_layers"] = c.Layers, ["num_attention_heads"] = c.Heads,
            ["num_key_value_heads"] = c.KvHeads, ["head_dim"] = c.HeadDim, ["intermediate_size"] = c.Intermediate,
            ["max_position_embeddings"] = c.MaxPositions, ["vocab_size"] = c.Vocab, ["rms_norm_eps"] = c.NormEps,
            ["rope_theta"] = c.RopeTheta, ["tie_word_embeddings"] = c.TieEmbeddings, ["torch_dtype"] = torchDtype,
            ["rope_scaling"] = c.RopeScaling is { } s
                ? new JsonObject
                {
                    ["rope_type"] = "llama3", ["factor"] = s.Factor, ["low_freq_factor"] = s.LowFreqFactor,
                    ["high_freq_factor"] = s.HighFreqFactor, ["original_max_position_embeddings"] = s.OriginalMaxPositions,
                }
                : null,
        };
        if (c.Family == BackboneFamily.Llama) { json["attention_bias"] = false; json["mlp_bias"] = false; }
        if (c.Family == BackboneFamily.Qwen3) json["attention_bias"] = false;
        if (c.Family != BackboneFamily.Llama) json["use_sliding_window"] = false;
        return json;
    }

    static bool Close(double a, double b) => a == b || Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));

    internal static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static string Q(string s) => CheckpointException.Quote(s);

    /// <summary>Typed reads of config.json keys with errors that name the key.</summary>
    sealed class Reader(string path, JsonElement element)
    {
        public string Path => path;

        bool TryGet(string key, out JsonElement value)
        {
            if (element.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null) return true;
            value = default;
            return false;
        }

        CheckpointException Bad(string key, string what) => new(path, $"{key} {what}", CheckpointErrorKind.Format);

        public CheckpointException Unsupported(string key, string detail) => new(path, $"{key}: {detail}", CheckpointErrorKind.Mismatch);

        public string? String(string key) => TryGet(key, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad(key, $"is a JSON {v.ValueKind}, not a string") : null;

        public IReadOnlyList<string> StringList(string key)
        {
            if (!TryGet(key, out var v)) return [];
            if (v.ValueKind != JsonValueKind.Array) throw Bad(key, "is not a list of strings");
            return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad(key, "is not a list of strings")).ToList();
        }

        public JsonElement? Object(string key) =>
            TryGet(key, out var v) ? v.ValueKind == JsonValueKind.Object ? v : throw Bad(key, $"is a JSON {v.ValueKind}, not an object") : null;

        public int? OptionalInt(string key)
        {
            if (!TryGet(key, out var v)) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0) return i;
            throw Bad(key, $"= {v.GetRawText()} is not a non-negative whole number");
        }

        public int Int(string key) => OptionalInt(key) ?? throw new CheckpointException(path, $"lacks {key}, which the importer needs", CheckpointErrorKind.Format);

        public double? OptionalDouble(string key)
        {
            if (!TryGet(key, out var v)) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)) return d;
            throw Bad(key, $"= {v.GetRawText()} is not a number");
        }

        public double Double(string key) => OptionalDouble(key) ?? throw new CheckpointException(path, $"lacks {key}, which the importer needs", CheckpointErrorKind.Format);

        public bool? Bool(string key)
        {
            if (!TryGet(key, out var v)) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Bad(key, $"= {v.GetRawText()} is not true or false"),
            };
        }
    }
}
