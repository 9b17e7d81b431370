using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CoLaR.Text;

/// <summary>
/// A byte-level BPE tokenizer loaded from Hugging Face files, for the backbone families the project supports:
/// Llama-3 and Qwen2/Qwen3 (<c>tokenizer.json</c>), Qwen2 and GPT-2 (<c>vocab.json</c> + <c>merges.txt</c>).
/// Special tokens come from <c>added_tokens</c> / <c>added_tokens_decoder</c>; EOS from <c>tokenizer_config.json</c>
/// (then <c>generation_config.json</c>). When the files define no pad token (or pad = EOS, which would mask the
/// EOS label), a reserved pad token of the vocabulary is used (<see cref="ReservedPadTokens"/>: Llama-3.2's
/// <c>&lt;|finetune_right_pad_id|&gt;</c>); without one a <c>[PAD]</c> token is appended with id = the tokenizer's
/// size, as the method does (the importer then adds an embedding row for it when the model's table has none spare).
/// Only JSON and text files are read; pickle files are never loaded.
/// </summary>
public sealed class HfTokenizer : ITextTokenizer
{
    /// <summary>The file names looked for, in order of preference.</summary>
    public static IReadOnlyList<string> FileNames { get; } = ["tokenizer.json", "vocab.json", "merges.txt"];

    const string AddedPad = "[PAD]";

    /// <summary>Padding tokens some vocabularies reserve, used (in this order) when the files name no pad token.</summary>
    public static IReadOnlyList<string> ReservedPadTokens { get; } = ["<|finetune_right_pad_id|>", "<|pad|>", "<pad>", "<|padding|>"];

    readonly ByteLevelBpe _bpe;

    HfTokenizer(ByteLevelBpe bpe, string family, string source, int baseSize, int padId, bool padAdded, int eosId, IReadOnlyList<int> stopIds)
    {
        _bpe = bpe;
        Family = family;
        Source = source;
        Name = $"{family} ({source})";
        VocabularySize = padAdded ? baseSize + 1 : baseSize;
        PadId = padId;
        PadAdded = padAdded;
        EosId = eosId;
        StopIds = stopIds;
        var think = bpe.Encode("###");
        if (think.Count != 1)
            throw new InvalidDataException(
                $"Tokenizer '{Name}' encodes \"###\" as {think.Count} ids [{string.Join(", ", think)}]; the method needs \"###\" to be a single token.");
        ThinkId = think[0];
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>"llama3", "qwen2", "qwen3", "gpt2" (from config.json / tokenizer_config.json), or "bpe".</summary>
    public string Family { get; }

    /// <summary>The main file the vocabulary was read from.</summary>
    public string Source { get; }

    /// <inheritdoc/>
    public int VocabularySize { get; }

    /// <inheritdoc/>
    public int PadId { get; }

    /// <summary>True when [PAD] was appended (id = the file's vocabulary size).</summary>
    public bool PadAdded { get; }

    /// <inheritdoc/>
    public int EosId { get; }

    /// <summary>Every id that ends generation: EOS and the ids of <c>generation_config.json</c>'s <c>eos_token_id</c>.</summary>
    public IReadOnlyList<int> StopIds { get; }

    /// <inheritdoc/>
    public int ThinkId { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _bpe.Encode(text);
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _bpe.Decode(ids.Where(id => id != PadId && id != EosId && id >= 0 && id < VocabularySize));
    }

    /// <summary>
    /// Loads the tokenizer of a checkpoint directory (a file path stands for its directory; a path to a *tokenizer.json is used as is):
    /// <c>tokenizer.json</c> when present, else <c>vocab.json</c> + <c>merges.txt</c>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">None of the tokenizer files is there (the message names the directory and the files).</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or "###" is not a single token.</exception>
    /// <exception cref="NotSupportedException">The tokenizer is not byte-level BPE, or uses a feature this loader does not implement.</exception>
    public static HfTokenizer Load(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string? explicitFile = null;
        if (File.Exists(directory))
        {
            explicitFile = Path.GetFullPath(directory);
            directory = Path.GetDirectoryName(explicitFile)!;
        }
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Checkpoint directory '{directory}' does not exist (looked for {string.Join(", ", FileNames)}).");

        var files = new CheckpointFiles(directory);
        // A path to a file stands for its directory, unless it is itself a (renamed) tokenizer.json.
        string tokenizerJson = explicitFile is not null && explicitFile.EndsWith("tokenizer.json", StringComparison.OrdinalIgnoreCase)
            ? explicitFile : Path.Combine(directory, "tokenizer.json");
        if (File.Exists(tokenizerJson)) return FromTokenizerJson(tokenizerJson, files);

        string vocabJson = Path.Combine(directory, "vocab.json"), mergesTxt = Path.Combine(directory, "merges.txt");
        if (File.Exists(vocabJson) && File.Exists(mergesTxt)) return FromVocabAndMerges(vocabJson, mergesTxt, files);

        throw new FileNotFoundException(
            $"No tokenizer files in '{directory}': looked for tokenizer.json, or vocab.json + merges.txt" +
            (File.Exists(vocabJson) ? " (merges.txt is missing)" : File.Exists(mergesTxt) ? " (vocab.json is missing)" : "") +
            (Directory.EnumerateFiles(directory, "tokenizer.model").Any() ? "; tokenizer.model (SentencePiece/tiktoken) is not supported, export tokenizer.json" : "") + ".",
            tokenizerJson);
    }

    // ---- tokenizer.json ----

    static HfTokenizer FromTokenizerJson(string path, CheckpointFiles files)
    {
        using var document = ParseJson(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: not a Hugging Face tokenizer.json (no \"model\" object).");

        string type = GetString(model, "type") ?? "BPE";
        if (type != "BPE") throw new NotSupportedException($"{path}: model type '{type}' is not supported; only byte-level BPE (GPT-2, Llama-3, Qwen2/3) is.");
        if (GetBool(model, "byte_fallback") == true)
            throw new NotSupportedException($"{path}: BPE with byte_fallback (SentencePiece-style, e.g. Llama-2/Mistral) is not supported; only byte-level BPE is.");
        if (!string.IsNullOrEmpty(GetString(model, "continuing_subword_prefix")) || !string.IsNullOrEmpty(GetString(model, "end_of_word_suffix")))
            throw new NotSupportedException($"{path}: BPE with continuing_subword_prefix / end_of_word_suffix is not supported.");

        if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: model.vocab must be an object of token → id.");
        var vocabulary = ReadVocabulary(vocabElement, path);

        var merges = new List<string>();
        if (model.TryGetProperty("merges", out var mergesElement) && mergesElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var merge in mergesElement.EnumerateArray())
            {
                // Older files write "a b"; newer ones write ["a", "b"].
                if (merge.ValueKind == JsonValueKind.String) merges.Add(merge.GetString()!);
                else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                         && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
                {
                    string a = merge[0].GetString()!, b = merge[1].GetString()!;
                    if (a.Contains(' ') || b.Contains(' ')) throw new NotSupportedException($"{path}: merge [\"{a}\", \"{b}\"] contains a space; only byte-level vocabularies are supported.");
                    merges.Add($"{a} {b}");
                }
                else throw new InvalidDataException($"{path}: model.merges entries must be \"a b\" strings or [a, b] pairs.");
            }
        }

        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in addedElement.EnumerateArray())
            {
                if (token.ValueKind != JsonValueKind.Object || GetString(token, "content") is not { } content
                    || !token.TryGetProperty("id", out var idElement) || !idElement.TryGetInt32(out int id))
                    throw new InvalidDataException($"{path}: added_tokens entries need \"id\" and \"content\".");
                added[content] = id;
            }
        }

        var (splits, byteLevel) = ReadPreTokenizer(root.TryGetProperty("pre_tokenizer", out var pre) ? pre : default, path);
        bool byteLevelDecoder = root.TryGetProperty("decoder", out var decoder) && ContainsType(decoder, "ByteLevel");
        if (!byteLevel && !byteLevelDecoder)
            throw new NotSupportedException($"{path}: only byte-level BPE tokenizers (GPT-2, Llama-3, Qwen2/3) are supported; this one has no ByteLevel pre-tokenizer or decoder.");
        var normalize = ReadNormalizer(root.TryGetProperty("normalizer", out var normalizer) ? normalizer : default, path);
        bool ignoreMerges = GetBool(model, "ignore_merges") ?? false;

        string family = files.Family(splits.Select(r => r.ToString()));
        return Create(path, family, vocabulary, merges, added, splits, ignoreMerges, normalize, files);
    }

    /// <summary>The split regexes of a pre_tokenizer and whether it is byte-level.</summary>
    static (List<Regex> Splits, bool ByteLevel) ReadPreTokenizer(JsonElement element, string path)
    {
        var splits = new List<Regex>();
        bool byteLevel = false;

        void Visit(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Null || e.ValueKind == JsonValueKind.Undefined) return;
            string? type = GetString(e, "type");
            switch (type)
            {
                case "Sequence":
                    if (!e.TryGetProperty("pretokenizers", out var list) || list.ValueKind != JsonValueKind.Array)
                        throw new InvalidDataException($"{path}: Sequence pre_tokenizer without a \"pretokenizers\" array.");
                    foreach (var child in list.EnumerateArray()) Visit(child);
                    break;
                case "ByteLevel":
                    byteLevel = true;
                    if (GetBool(e, "add_prefix_space") == true)
                        throw new NotSupportedException($"{path}: ByteLevel with add_prefix_space = true is not supported (GPT-2, Llama-3 and Qwen use false).");
                    if (GetBool(e, "use_regex") ?? true) splits.Add(CreateRegex(PreTokenizerPatterns.Gpt2, path));
                    break;
                case "Split":
                    string behavior = GetString(e, "behavior") ?? "Isolated";
                    if (behavior != "Isolated" || GetBool(e, "invert") == true)
                        throw new NotSupportedException($"{path}: Split pre_tokenizer with behavior '{behavior}'{(GetBool(e, "invert") == true ? " and invert" : "")} is not supported (only Isolated).");
                    if (!e.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.Object)
                        throw new InvalidDataException($"{path}: Split pre_tokenizer without a pattern.");
                    if (GetString(pattern, "Regex") is { } regex) splits.Add(CreateRegex(regex, path));
                    else if (GetString(pattern, "String") is { } literal) splits.Add(CreateRegex(Regex.Escape(literal), path));
                    else throw new InvalidDataException($"{path}: Split pattern must have \"Regex\" or \"String\".");
                    break;
                case "Digits":
                    splits.Add(CreateRegex(GetBool(e, "individual_digits") == true ? @"\p{N}" : @"\p{N}+", path));
                    break;
                default:
                    throw new NotSupportedException($"{path}: pre_tokenizer type '{type ?? "(none)"}' is not supported (supported: ByteLevel, Split, Digits, Sequence).");
            }
        }

        Visit(element);
        return (splits, byteLevel);
    }

    static Func<string, string>? ReadNormalizer(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Null || element.ValueKind == JsonValueKind.Undefined) return null;
        string? type = GetString(element, "type");
        NormalizationForm? form = type switch { "NFC" => NormalizationForm.FormC, "NFD" => NormalizationForm.FormD, "NFKC" => NormalizationForm.FormKC, "NFKD" => NormalizationForm.FormKD, _ => null };
        if (form is { } f)
            // ASCII is already normalised in every form; skipping it keeps the common case allocation-free. Note: with
            // InvariantGlobalization (this repository's default) .NET leaves non-ASCII text unnormalised.
            return text => Ascii.IsValid(text) ? text : text.Normalize(f);
        if (type == "Sequence" && element.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            var steps = list.EnumerateArray().Select(n => ReadNormalizer(n, path)).Where(n => n is not null).Select(n => n!).ToList();
            return steps.Count == 0 ? null : text => steps.Aggregate(text, (t, step) => step(t));
        }
        throw new NotSupportedException($"{path}: normalizer '{type ?? "(none)"}' is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence).");
    }

    // ---- vocab.json + merges.txt ----

    static HfTokenizer FromVocabAndMerges(string vocabPath, string mergesPath, CheckpointFiles files)
    {
        Dictionary<string, int> vocabulary;
        using (var document = ParseJson(vocabPath))
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{vocabPath}: must be a JSON object of token → id.");
            vocabulary = ReadVocabulary(document.RootElement, vocabPath);
        }

        var merges = new List<string>();
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(mergesPath))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new InvalidDataException($"{mergesPath}:{lineNumber}: a merge must be two tokens separated by one space, found '{line}'.");
            merges.Add(line);
        }

        var added = files.AddedTokens();
        // The families' regexes: Qwen splits every digit; GPT-2 does not.
        string family = files.Family([]);
        string pattern = family.StartsWith("qwen", StringComparison.Ordinal) ? PreTokenizerPatterns.Qwen2 : PreTokenizerPatterns.Gpt2;
        Func<string, string>? normalize = family.StartsWith("qwen", StringComparison.Ordinal)
            ? text => Ascii.IsValid(text) ? text : text.Normalize(NormalizationForm.FormC) : null;
        if (family == "bpe") family = "gpt2";
        return Create(vocabPath, family, vocabulary, merges, added, [CreateRegex(pattern, vocabPath)], ignoreMerges: false, normalize, files);
    }

    // ---- shared ----

    static HfTokenizer Create(string source, string family, Dictionary<string, int> vocabulary, List<string> merges, Dictionary<string, int> added,
        List<Regex> splits, bool ignoreMerges, Func<string, string>? normalize, CheckpointFiles files)
    {
        // Tokens the configuration names as special (bos/eos/unk/pad…) are matched in text like added tokens,
        // also when they live in the main vocabulary (GPT-2's <|endoftext|>).
        foreach (var name in files.NamedSpecialTokens())
            if (!added.ContainsKey(name) && vocabulary.TryGetValue(ByteLevel.Encode(name), out int id)) added[name] = id;

        int baseSize = Math.Max(vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1, added.Count == 0 ? 0 : added.Values.Max() + 1);

        int? IdOf(string token) => added.TryGetValue(token, out int a) ? a : vocabulary.TryGetValue(ByteLevel.Encode(token), out int v) ? v : null;

        var (eos, eosName) = ResolveEos(files, IdOf, source);
        // GPT-2's <|endoftext|> lives in the main vocabulary; like HF, match the EOS token in text as one token.
        if (eosName is not null) added.TryAdd(eosName, eos);
        var stops = new List<int> { eos };
        foreach (int id in files.GenerationEosIds()) if (!stops.Contains(id)) stops.Add(id);

        int? pad = files.TokenName("pad_token") is { } padName ? IdOf(padName) : null;
        bool padAdded = false;
        if (pad is null || pad == eos)
        {
            // A pad token the vocabulary reserves (Llama-3.1+'s <|finetune_right_pad_id|>) keeps the embedding table's
            // size; only when there is none is [PAD] appended (id = size, one row more than the files define).
            pad = IdOf(AddedPad) ?? ReservedPadTokens.Select(IdOf).FirstOrDefault(id => id is not null && id != eos);
            if (pad is null || pad == eos)
            {
                pad = baseSize;
                padAdded = true;
            }
        }

        ByteLevelBpe bpe;
        try
        {
            bpe = new ByteLevelBpe(vocabulary, merges, added, splits, ignoreMerges, normalize);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // Merges naming unknown tokens, two tokens with one id, …
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        return new HfTokenizer(bpe, family, source, baseSize, pad.Value, padAdded, eos, stops);
    }

    static (int Id, string? Name) ResolveEos(CheckpointFiles files, Func<string, int?> idOf, string source)
    {
        if (files.TokenName("eos_token") is { } name)
            return (idOf(name) ?? throw new InvalidDataException($"{files.TokenizerConfigPath}: eos_token '{name}' is not a token of {source}."), name);
        foreach (int id in files.GenerationEosIds()) return (id, null);
        foreach (var candidate in (string[])["<|endoftext|>", "<|end_of_text|>", "<|im_end|>", "<|eot_id|>", "</s>"])
            if (idOf(candidate) is { } known) return (known, candidate);
        throw new InvalidDataException(
            $"No end-of-sequence token for {source}: tokenizer_config.json has no eos_token, generation_config.json no eos_token_id, and no usual EOS token is in the vocabulary.");
    }

    static Dictionary<string, int> ReadVocabulary(JsonElement element, string path)
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in element.EnumerateObject())
        {
            if (!entry.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{path}: token '{entry.Name}' must map to a non-negative integer id.");
            vocabulary[entry.Name] = id;
        }
        if (vocabulary.Count == 0) throw new InvalidDataException($"{path}: the vocabulary is empty.");
        return vocabulary;
    }

    static Regex CreateRegex(string pattern, string path)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"{path}: pre-tokenizer regex '{pattern}' is not supported by .NET regular expressions: {e.Message}", e);
        }
    }

    internal static JsonDocument ParseJson(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{(e.LineNumber ?? 0) + 1}: invalid JSON: {e.Message}", e);
        }
    }

    internal static string? GetString(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static bool? GetBool(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && (v.ValueKind == JsonValueKind.True || v.ValueKind == JsonValueKind.False) ? v.GetBoolean() : null;

    static bool ContainsType(JsonElement e, string type)
    {
        if (e.ValueKind != JsonValueKind.Object) return false;
        if (GetString(e, "type") == type) return true;
        foreach (var name in (string[])["decoders", "pretokenizers"])
            if (e.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array && list.EnumerateArray().Any(c => ContainsType(c, type)))
                return true;
        return false;
    }

    /// <summary>The optional configuration files next to the vocabulary.</summary>
    sealed class CheckpointFiles
    {
        readonly JsonElement _tokenizerConfig, _generationConfig, _config, _specialTokensMap, _addedTokens;

        public CheckpointFiles(string directory)
        {
            TokenizerConfigPath = Path.Combine(directory, "tokenizer_config.json");
            _tokenizerConfig = Load(TokenizerConfigPath);
            _generationConfig = Load(Path.Combine(directory, "generation_config.json"));
            _config = Load(Path.Combine(directory, "config.json"));
            _specialTokensMap = Load(Path.Combine(directory, "special_tokens_map.json"));
            _addedTokens = Load(Path.Combine(directory, "added_tokens.json"));
        }

        public string TokenizerConfigPath { get; }

        static JsonElement Load(string path)
        {
            if (!File.Exists(path)) return default;
            using var document = ParseJson(path);
            return document.RootElement.Clone();
        }

        /// <summary>A special token named in tokenizer_config.json or special_tokens_map.json: a string or {"content": …}.</summary>
        public string? TokenName(string key)
        {
            foreach (var source in (JsonElement[])[_tokenizerConfig, _specialTokensMap])
            {
                if (source.ValueKind != JsonValueKind.Object || !source.TryGetProperty(key, out var value)) continue;
                if (value.ValueKind == JsonValueKind.String) return value.GetString();
                if (GetString(value, "content") is { } content) return content;
                if (value.ValueKind == JsonValueKind.Null) return null;
            }
            return null;
        }

        public IEnumerable<string> NamedSpecialTokens()
        {
            foreach (var key in (string[])["bos_token", "eos_token", "unk_token", "pad_token"])
                if (TokenName(key) is { } name) yield return name;
            foreach (var source in (JsonElement[])[_tokenizerConfig, _specialTokensMap])
                if (source.ValueKind == JsonValueKind.Object && source.TryGetProperty("additional_special_tokens", out var list) && list.ValueKind == JsonValueKind.Array)
                    foreach (var item in list.EnumerateArray())
                        if (item.ValueKind == JsonValueKind.String) yield return item.GetString()!;
                        else if (GetString(item, "content") is { } content) yield return content;
        }

        /// <summary>generation_config.json's eos_token_id: an integer or a list of them.</summary>
        public IEnumerable<int> GenerationEosIds()
        {
            if (_generationConfig.ValueKind != JsonValueKind.Object || !_generationConfig.TryGetProperty("eos_token_id", out var value)) yield break;
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int single)) yield return single;
            else if (value.ValueKind == JsonValueKind.Array)
                foreach (var item in value.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int id)) yield return id;
        }

        /// <summary>Added tokens of the vocab.json + merges.txt layout: tokenizer_config's added_tokens_decoder and added_tokens.json.</summary>
        public Dictionary<string, int> AddedTokens()
        {
            var added = new Dictionary<string, int>(StringComparer.Ordinal);
            if (_tokenizerConfig.ValueKind == JsonValueKind.Object && _tokenizerConfig.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
                foreach (var entry in decoder.EnumerateObject())
                    if (int.TryParse(entry.Name, out int id) && GetString(entry.Value, "content") is { } content) added[content] = id;
            if (_addedTokens.ValueKind == JsonValueKind.Object)
                foreach (var entry in _addedTokens.EnumerateObject())
                    if (entry.Value.TryGetInt32(out int id)) added[entry.Name] = id;
            return added;
        }

        /// <summary>The family, from config.json's model_type, tokenizer_config's tokenizer_class, or the regex.</summary>
        public string Family(IEnumerable<string> patterns)
        {
            var patternList = patterns.ToList();
            string? modelType = GetString(_config, "model_type")?.ToLowerInvariant();
            string? tokenizerClass = GetString(_tokenizerConfig, "tokenizer_class");
            bool llama3Regex = patternList.Any(p => p.Contains(@"\p{N}{1,3}", StringComparison.Ordinal));
            if (modelType == "llama" && llama3Regex) return "llama3";
            if (modelType is not null) return modelType;
            if (tokenizerClass is not null && tokenizerClass.StartsWith("Qwen2", StringComparison.Ordinal)) return "qwen2";
            if (tokenizerClass is not null && tokenizerClass.StartsWith("GPT2", StringComparison.Ordinal)) return "gpt2";
            if (llama3Regex) return "llama3";
            if (patternList.Contains(PreTokenizerPatterns.Qwen2)) return "qwen2";
            if (patternList.Contains(PreTokenizerPatterns.Gpt2)) return "gpt2";
            return "bpe";
        }
    }
}
