namespace CoLaR.Text;

/// <summary>
/// The Hugging Face files a checkpoint's tokenizer is read from (<see cref="HfTokenizer"/>). They travel with
/// checkpoints: the importer copies them beside the imported weights, and training copies them beside its
/// checkpoints, so <c>Tokenizers.For("checkpoint", directory of the checkpoint)</c> always finds them.
/// </summary>
public static class TokenizerFiles
{
    /// <summary>Every file the tokenizer loader may read (config.json only for the family name).</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "added_tokens.json", "vocab.json", "merges.txt", "config.json"];

    /// <summary>True when <paramref name="directory"/> holds a tokenizer (tokenizer.json, or vocab.json + merges.txt).</summary>
    public static bool Present(string directory) =>
        File.Exists(Path.Combine(directory, "tokenizer.json")) ||
        (File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt")));

    /// <summary>The tokenizer files in <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> In(string directory) =>
        Names.Select(n => Path.Combine(directory, n)).Where(File.Exists).ToList();

    /// <summary>
    /// Files of <paramref name="from"/> that would overwrite a different file of the same name in <paramref name="to"/>
    /// (the tokenizer of another checkpoint there); empty when copying is safe.
    /// </summary>
    public static IReadOnlyList<string> Conflicts(string from, string to)
    {
        if (SameDirectory(from, to)) return [];
        return In(from).Where(f =>
        {
            var target = Path.Combine(to, Path.GetFileName(f));
            return File.Exists(target) && !File.ReadAllBytes(target).AsSpan().SequenceEqual(File.ReadAllBytes(f));
        }).Select(f => Path.Combine(to, Path.GetFileName(f))).ToList();
    }

    /// <summary>Copies the tokenizer files of <paramref name="from"/> into <paramref name="to"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Copy(string from, string to)
    {
        if (SameDirectory(from, to)) return [];
        Directory.CreateDirectory(to);
        var written = new List<string>();
        foreach (var file in In(from))
        {
            var target = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, target, overwrite: true);
            written.Add(target);
        }
        return written;
    }

    static bool SameDirectory(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);
}
