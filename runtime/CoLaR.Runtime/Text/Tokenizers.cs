namespace CoLaR.Text;

/// <summary>Chooses the tokenizer a reasoner spec names.</summary>
public static class Tokenizers
{
    /// <summary>The spec value for the built-in tokenizer (<see cref="EmbeddedTokenizer"/>).</summary>
    public const string Embedded = "embedded";

    /// <summary>The spec value for the tokenizer files of the backbone checkpoint (<see cref="HfTokenizer"/>).</summary>
    public const string Checkpoint = "checkpoint";

    /// <summary>
    /// "embedded" → the embedded tokenizer; "checkpoint" → the Hugging Face tokenizer files in
    /// <paramref name="checkpointDirectory"/> (tokenizer.json, or vocab.json + merges.txt).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown spec, or "checkpoint" without a directory.</exception>
    /// <exception cref="FileNotFoundException">The directory has no tokenizer files (the message names the directory and the files looked for).</exception>
    public static ITextTokenizer For(string specTokenizer, string? checkpointDirectory)
    {
        ArgumentNullException.ThrowIfNull(specTokenizer);
        switch (specTokenizer.Trim().ToLowerInvariant())
        {
            case Embedded:
                return EmbeddedTokenizer.Instance;
            case Checkpoint:
                if (string.IsNullOrWhiteSpace(checkpointDirectory))
                    throw new ArgumentException(
                        $"Tokenizer \"{Checkpoint}\" reads the backbone checkpoint's tokenizer files ({string.Join(", ", HfTokenizer.FileNames)}), but no checkpoint directory was given.",
                        nameof(checkpointDirectory));
                return HfTokenizer.Load(checkpointDirectory);
            default:
                throw new ArgumentException($"Unknown tokenizer \"{specTokenizer}\": expected \"{Embedded}\" or \"{Checkpoint}\".", nameof(specTokenizer));
        }
    }
}
