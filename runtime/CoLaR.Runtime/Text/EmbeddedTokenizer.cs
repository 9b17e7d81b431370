using System.Text.RegularExpressions;

namespace CoLaR.Text;

/// <summary>
/// A small byte-level BPE tokenizer that needs no files: Qwen2-style pre-tokenization (every digit its own token,
/// words keep their leading space), whole-word tokens for the prompt template and the synthetic data, and byte
/// fallback for everything else, so any text encodes and <c>Decode(Encode(s)) == s</c>. "###" is always one token,
/// even glued to other text. [PAD] and [EOS] are never produced from text: a literal "[PAD]" in a question is text.
/// </summary>
public sealed class EmbeddedTokenizer : ITextTokenizer
{
    static readonly Lazy<EmbeddedTokenizer> s_instance = new(() => new EmbeddedTokenizer());

    readonly ByteLevelBpe _bpe;
    readonly string[] _tokens;

    /// <summary>The shared instance (the tokenizer is immutable and thread-safe).</summary>
    public static EmbeddedTokenizer Instance => s_instance.Value;

    /// <summary>Builds the tokenizer from <see cref="EmbeddedVocabulary"/>.</summary>
    public EmbeddedTokenizer()
    {
        EmbeddedVocabulary.Validate();
        var (vocabulary, merges) = EmbeddedVocabulary.Build();
        VocabularySize = vocabulary.Count;
        _tokens = new string[vocabulary.Count];
        foreach (var (token, id) in vocabulary) _tokens[id] = token;
        _bpe = new ByteLevelBpe(
            vocabulary,
            merges,
            special: new Dictionary<string, int> { [EmbeddedVocabulary.Think] = EmbeddedVocabulary.ThinkId },
            splits: [new Regex(EmbeddedVocabulary.Pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled)],
            ignoreMerges: false,
            normalize: null);
    }

    /// <inheritdoc/>
    public string Name => "embedded";

    /// <inheritdoc/>
    public int VocabularySize { get; }

    /// <inheritdoc/>
    public int PadId => EmbeddedVocabulary.PadId;

    /// <inheritdoc/>
    public int EosId => EmbeddedVocabulary.EosId;

    /// <inheritdoc/>
    public int ThinkId => EmbeddedVocabulary.ThinkId;

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

    /// <summary>The token string of an id as stored in the vocabulary (byte-level form, 'Ġ' for a space), for diagnostics.</summary>
    public string? TokenOf(int id) => id >= 0 && id < _tokens.Length ? _tokens[id] : null;
}
