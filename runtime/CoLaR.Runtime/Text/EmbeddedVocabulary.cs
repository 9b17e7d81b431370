using System.Text.RegularExpressions;
using CoLaR.Data;

namespace CoLaR.Text;

/// <summary>
/// The vocabulary of the embedded tokenizer, built deterministically in code: [PAD], [EOS], ###, the 256
/// byte-level symbols (id 3 + byte value), then whole-word tokens for the prompt template and the synthetic
/// word-problem generator, plus a few punctuation pairs ("&lt;&lt;", "&gt;&gt;", " (", " )"). It fits the default
/// backbone's 512 ids. The source generator reads <see cref="Size"/> to check that an embedded-tokenizer model's
/// vocabulary is large enough (COLAR011).
/// </summary>
public static class EmbeddedVocabulary
{
    /// <summary>Number of ids of the embedded tokenizer (a test checks it against the built vocabulary).</summary>
    public const int Size = 494;

    /// <summary>Id of [PAD].</summary>
    public const int PadId = 0;
    /// <summary>Id of [EOS].</summary>
    public const int EosId = 1;
    /// <summary>Id of "###".</summary>
    public const int ThinkId = 2;
    /// <summary>Id of the first byte symbol: byte b has id <c>FirstByteId + b</c>.</summary>
    public const int FirstByteId = 3;

    internal const string Pad = "[PAD]";
    internal const string Eos = "[EOS]";
    internal const string Think = "###";

    /// <summary>The words of the prompt layout ("Question: … Let's think step by step:", "(Thinking speed: auto)", "Answer:").</summary>
    public static IReadOnlyList<string> PromptWords { get; } = ["Question", "Let", "think", "step", "by", "Thinking", "speed", "auto", "Answer"];

    /// <summary>Words that also start a piece without a leading space: "Question:" opens the prompt, "Answer:" follows "###", "(Thinking".</summary>
    public static IReadOnlyList<string> BareWords { get; } = ["Question", "Answer", "Thinking"];

    /// <summary>Punctuation pairs: the equation brackets, and the spaced parentheses of multiplication running sums.</summary>
    static readonly string[] s_punctuation = ["<<", ">>", " (", " )"];

    /// <summary>Every whole word that encodes to a single token after a space.</summary>
    public static IReadOnlyList<string> Words { get; } =
        PromptWords.Concat(WordProblemVocabulary.Words).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// The pre-tokenizer regex (Qwen2's): contractions, words with an optional leading space or punctuation mark,
    /// every digit on its own, punctuation runs with an optional leading space, newlines, other whitespace.
    /// </summary>
    internal const string Pattern = PreTokenizerPatterns.Qwen2;

    /// <summary>Builds the vocabulary (byte-level token → id) and the merge list, in priority order.</summary>
    /// <remarks>
    /// Each word token is reached by merging one character at a time onto its prefix ("Ġt"+"h" → "Ġth", …), so every
    /// prefix is a token too. Merges of space-prefixed words rank first, then merges of the bare (capitalised) words,
    /// then punctuation. A space-prefixed piece therefore always has exactly one applicable merge of the highest
    /// rank until the word is complete, and a bare capitalised word's first merge (capital + lower case) can never
    /// apply inside another word, so every listed word encodes to exactly one token. Each word costs about one id
    /// per letter, which is why the word lists are short.
    /// </remarks>
    internal static (Dictionary<string, int> Vocabulary, List<string> Merges) Build()
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [Pad] = PadId,
            [Eos] = EosId,
            [Think] = ThinkId,
        };
        for (int b = 0; b < 256; b++) vocabulary.Add(ByteLevel.CharOf((byte)b).ToString(), FirstByteId + b);
        var merges = new List<string>();

        void AddChain(string text)
        {
            var symbols = ByteLevel.Encode(text);
            for (int i = 2; i <= symbols.Length; i++)
            {
                var token = symbols[..i];
                if (vocabulary.ContainsKey(token)) continue;
                vocabulary.Add(token, vocabulary.Count);
                merges.Add($"{symbols[..(i - 1)]} {symbols[i - 1]}");
            }
        }

        foreach (var word in Words) AddChain(" " + word);
        foreach (var p in s_punctuation.Where(p => p.StartsWith(' '))) AddChain(p);
        foreach (var word in BareWords) AddChain(word);
        AddChain("'s");
        foreach (var p in s_punctuation.Where(p => !p.StartsWith(' '))) AddChain(p);
        return (vocabulary, merges);
    }

    internal static void Validate()
    {
        foreach (var word in Words.Concat(BareWords))
            if (!Regex.IsMatch(word, "^[A-Za-z]+$"))
                throw new InvalidOperationException($"Embedded vocabulary word '{word}' must be ASCII letters only.");
        // The ranking argument above needs bare words to start with a capital letter.
        foreach (var word in BareWords)
            if (!char.IsAsciiLetterUpper(word[0])) throw new InvalidOperationException($"Bare word '{word}' must start with a capital letter.");
    }
}

/// <summary>Pre-tokenizer regexes of the supported backbone families (as written in their tokenizer.json files).</summary>
internal static class PreTokenizerPatterns
{
    /// <summary>GPT-2 (the ByteLevel pre-tokenizer with use_regex = true).</summary>
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2 / Qwen3: like Llama-3, but every digit is its own piece.</summary>
    public const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Llama-3: numbers in groups of up to three digits.</summary>
    public const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
}
