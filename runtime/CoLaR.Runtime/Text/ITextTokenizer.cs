namespace CoLaR.Text;

/// <summary>
/// The tokenizer contract the runtime needs. Implementations wrap Microsoft.ML.Tokenizers; the method's
/// special tokens are a padding token, an end-of-sequence token, and "###" (the thinking separator)
/// as a single token.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>A short description: "embedded", "llama3 (…/tokenizer.json)".</summary>
    string Name { get; }

    /// <summary>Number of ids the tokenizer can produce (the model's Vocab must be at least this).</summary>
    int VocabularySize { get; }

    /// <summary>The [PAD] id (never a label).</summary>
    int PadId { get; }

    /// <summary>End of sequence: ends the answer.</summary>
    int EosId { get; }

    /// <summary>"###": opens and closes the reasoning.</summary>
    int ThinkId { get; }

    /// <summary>Text → ids, adding no special tokens.</summary>
    IReadOnlyList<int> Encode(string text);

    /// <summary>Ids → text, skipping [PAD] and EOS.</summary>
    string Decode(IEnumerable<int> ids);
}
