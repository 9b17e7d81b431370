using System.Text.Json.Nodes;
using CoLaR.Text;

namespace CoLaR.Runtime.Tests.Text;

/// <summary>
/// Writes tiny Hugging Face tokenizer files in the real formats (tokenizer.json; vocab.json + merges.txt;
/// tokenizer_config.json; generation_config.json; config.json) so the loader is tested without any download.
/// </summary>
internal sealed class TinyHfFiles
{
    public const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public Dictionary<string, int> Vocab { get; } = new(StringComparer.Ordinal);
    public List<(string Left, string Right)> Merges { get; } = [];

    /// <summary>The 256 byte symbols (byte b has id b), plus merge chains for each word (text form, e.g. " the").</summary>
    public TinyHfFiles(params string[] words)
    {
        for (int b = 0; b < 256; b++) Vocab[ByteLevel.CharOf((byte)b).ToString()] = b;
        foreach (var word in words) AddWord(word);
    }

    public int Size => Vocab.Count;

    /// <summary>Id of a token given as text (" the" → "Ġthe").</summary>
    public int Id(string text) => Vocab[ByteLevel.Encode(text)];

    public void AddWord(string text)
    {
        var symbols = ByteLevel.Encode(text);
        for (int i = 2; i <= symbols.Length; i++)
        {
            if (Vocab.ContainsKey(symbols[..i])) continue;
            Vocab[symbols[..i]] = Vocab.Count;
            Merges.Add((symbols[..(i - 1)], symbols[(i - 1)..i]));
        }
    }

    /// <summary>A token with no merge path to it: only <c>ignore_merges</c> can produce it.</summary>
    public void AddUnreachable(string text) => Vocab[ByteLevel.Encode(text)] = Vocab.Count;

    public static JsonObject Added(int id, string content, bool special = true) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
        ["normalized"] = false, ["special"] = special,
    };

    public static JsonObject SplitThenByteLevel(string regex) => new()
    {
        ["type"] = "Sequence",
        ["pretokenizers"] = new JsonArray(
            new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = regex }, ["behavior"] = "Isolated", ["invert"] = false },
            new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
    };

    /// <summary>A tokenizer.json; merges as [a, b] pairs (newer files) or "a b" strings (older ones).</summary>
    public void WriteTokenizerJson(string directory, JsonNode preTokenizer, JsonArray addedTokens, bool ignoreMerges, bool pairMerges,
        JsonNode? normalizer = null, string modelType = "BPE")
    {
        var vocab = new JsonObject();
        foreach (var (token, id) in Vocab.OrderBy(kv => kv.Value)) vocab[token] = id;
        var merges = new JsonArray();
        foreach (var (left, right) in Merges) merges.Add(pairMerges ? new JsonArray(left, right) : (JsonNode)JsonValue.Create($"{left} {right}"));
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = addedTokens,
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = modelType, ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        Write(directory, "tokenizer.json", root);
    }

    /// <summary>vocab.json + merges.txt (with the "#version" header line).</summary>
    public void WriteVocabAndMerges(string directory, IReadOnlyDictionary<string, int>? extraVocab = null)
    {
        var vocab = new JsonObject();
        foreach (var (token, id) in Vocab.OrderBy(kv => kv.Value)) vocab[token] = id;
        if (extraVocab is not null) foreach (var (token, id) in extraVocab) vocab[token] = id;
        Write(directory, "vocab.json", vocab);
        File.WriteAllText(Path.Combine(directory, "merges.txt"), "#version: 0.2\n" + string.Concat(Merges.Select(m => $"{m.Left} {m.Right}\n")));
    }

    public static void Write(string directory, string name, JsonNode json) =>
        File.WriteAllText(Path.Combine(directory, name), json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
}
