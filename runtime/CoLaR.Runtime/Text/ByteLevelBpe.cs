using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace CoLaR.Text;

/// <summary>
/// Splits text the way Hugging Face byte-level tokenizers do before BPE: special tokens are cut out first
/// (each becomes one piece), then every regex of the pre-tokenizer splits the remaining text in turn,
/// keeping both the matches and the text between them ("Isolated"), so no character is ever dropped.
/// </summary>
internal sealed class PieceSplitter(IReadOnlyList<Regex> splits, Regex? special) : PreTokenizer
{
    /// <summary>The regexes applied in order (empty: the text stays one piece).</summary>
    public IReadOnlyList<Regex> Splits { get; } = splits;

    /// <summary>Matches any special token (longest first), or null when there are none.</summary>
    public Regex? Special { get; } = special;

    /// <summary>An alternation of the given literals, longest first so that "####" is not cut at "###".</summary>
    public static Regex? LiteralAlternation(IEnumerable<string> literals)
    {
        var ordered = literals.Where(s => s.Length > 0).Distinct().OrderByDescending(s => s.Length).ThenBy(s => s, StringComparer.Ordinal).ToList();
        if (ordered.Count == 0) return null;
        return new Regex(string.Join("|", ordered.Select(Regex.Escape)), RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    /// <summary>Segments of <paramref name="text"/>: (offset, length, isSpecial), in order, covering all of it.</summary>
    public IEnumerable<(int Offset, int Length, bool IsSpecial)> Segments(string text)
    {
        int at = 0;
        if (Special is not null)
        {
            for (var m = Special.Match(text); m.Success; m = m.NextMatch())
            {
                if (m.Length == 0) continue;
                if (m.Index > at) yield return (at, m.Index - at, false);
                yield return (m.Index, m.Length, true);
                at = m.Index + m.Length;
            }
        }
        if (at < text.Length) yield return (at, text.Length - at, false);
    }

    /// <summary>The pre-tokenizer pieces of ordinary text (no special tokens in it).</summary>
    public List<(int Offset, int Length)> Pieces(string text, int baseOffset = 0)
    {
        var pieces = new List<(int Offset, int Length)> { (0, text.Length) };
        foreach (var regex in Splits)
        {
            var next = new List<(int Offset, int Length)>(pieces.Count * 2);
            foreach (var (offset, length) in pieces)
            {
                int at = offset, end = offset + length;
                for (var m = regex.Match(text, offset, length); m.Success; m = m.NextMatch())
                {
                    if (m.Length == 0) continue;
                    if (m.Index > at) next.Add((at, m.Index - at));
                    next.Add((m.Index, m.Length));
                    at = m.Index + m.Length;
                }
                if (at < end) next.Add((at, end - at));
            }
            pieces = next;
        }
        if (baseOffset != 0) for (int i = 0; i < pieces.Count; i++) pieces[i] = (pieces[i].Offset + baseOffset, pieces[i].Length);
        return pieces;
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var result = new List<(int Offset, int Length)>();
        foreach (var (offset, length, isSpecial) in Segments(text))
        {
            if (isSpecial) result.Add((offset, length));
            else result.AddRange(Pieces(text.Substring(offset, length), offset));
        }
        return result;
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());
}

/// <summary>
/// A byte-level BPE tokenizer (Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>) with the pre-tokenization,
/// special tokens, normalization and <c>ignore_merges</c> rule of Hugging Face tokenizers. Shared by the
/// embedded tokenizer and the checkpoint (HF-format) tokenizers.
/// </summary>
internal sealed class ByteLevelBpe
{
    const int MaxCachedPieceLength = 32;
    const int MaxCacheEntries = 200_000;

    readonly BpeTokenizer _bpe;
    readonly PieceSplitter _splitter;
    readonly Dictionary<string, int> _special;
    readonly Dictionary<string, int>? _wholePieces;
    readonly Func<string, string>? _normalize;
    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <param name="vocabulary">Token (byte-level form) → id.</param>
    /// <param name="merges">Merge rules "left right", highest priority first.</param>
    /// <param name="special">Tokens matched literally in the text before anything else (added tokens).</param>
    /// <param name="splits">Pre-tokenizer regexes, applied in order.</param>
    /// <param name="ignoreMerges">HF <c>ignore_merges</c> (Llama-3): a piece that is itself a token is that token.</param>
    /// <param name="normalize">Applied to ordinary text (not to special tokens) before splitting.</param>
    public ByteLevelBpe(IReadOnlyDictionary<string, int> vocabulary, IEnumerable<string> merges, IReadOnlyDictionary<string, int> special,
        IReadOnlyList<Regex> splits, bool ignoreMerges, Func<string, string>? normalize)
    {
        _special = new Dictionary<string, int>(special, StringComparer.Ordinal);
        _splitter = new PieceSplitter(splits, PieceSplitter.LiteralAlternation(_special.Keys));
        _normalize = normalize;
        _wholePieces = ignoreMerges ? new Dictionary<string, int>(vocabulary, StringComparer.Ordinal) : null;
        _bpe = BpeTokenizer.Create(new BpeOptions(vocabulary)
        {
            Merges = merges,
            ByteLevel = true,
            SpecialTokens = _special,
            PreTokenizer = _splitter,
        });
    }

    /// <summary>The underlying Microsoft.ML.Tokenizers tokenizer.</summary>
    public BpeTokenizer Inner => _bpe;

    /// <summary>Text → ids; special tokens in the text become their ids.</summary>
    public List<int> Encode(string text)
    {
        var ids = new List<int>(text.Length / 2 + 4);
        foreach (var (offset, length, isSpecial) in _splitter.Segments(text))
        {
            var segment = text.Substring(offset, length);
            if (isSpecial)
            {
                ids.Add(_special[segment]);
                continue;
            }
            if (_normalize is not null) segment = _normalize(segment);
            foreach (var (pieceOffset, pieceLength) in _splitter.Pieces(segment))
                ids.AddRange(EncodePiece(segment.Substring(pieceOffset, pieceLength)));
        }
        return ids;
    }

    int[] EncodePiece(string piece)
    {
        if (piece.Length <= MaxCachedPieceLength && _cache.TryGetValue(piece, out var cached)) return cached;
        int[] ids;
        if (_wholePieces is not null && _wholePieces.TryGetValue(ByteLevel.Encode(piece), out int whole)) ids = [whole];
        else ids = _bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false).ToArray();
        if (piece.Length <= MaxCachedPieceLength && _cache.Count < MaxCacheEntries) _cache.TryAdd(piece, ids);
        return ids;
    }

    /// <summary>Ids → text. Special tokens are written out; ids the tokenizer does not know are skipped.</summary>
    public string Decode(IEnumerable<int> ids) => _bpe.Decode(ids, considerSpecialTokens: true);

    /// <summary>The id of a token given in byte-level form, or of a special token.</summary>
    public int? IdOf(string token) =>
        _special.TryGetValue(token, out int s) ? s : _bpe.Vocabulary.TryGetValue(token, out int id) ? id : null;
}
