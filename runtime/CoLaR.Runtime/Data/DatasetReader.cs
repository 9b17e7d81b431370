namespace CoLaR.Data;

/// <summary>What to do with a record whose reasoning is empty (the real GSM8k-Aug validation split has 6 such lines).</summary>
public enum EmptyReasoning
{
    /// <summary>Keep the sample with no steps (the published files contain such samples and are evaluated with them).</summary>
    Keep = 0,

    /// <summary>Leave the sample out.</summary>
    Skip = 1,

    /// <summary>Throw a <see cref="DataFormatException"/> naming the file and line.</summary>
    Error = 2,
}

/// <summary>How the dataset readers check records.</summary>
public sealed record DatasetReadOptions
{
    /// <summary>The default options: infer the answer kind, keep samples with empty reasoning.</summary>
    public static DatasetReadOptions Default { get; } = new();

    /// <summary>
    /// The kind every answer must have; null infers it from the first record (<see cref="Answers.Infer"/>: numeric, or a
    /// digit sequence for multiplication). Set <see cref="AnswerKind.Text"/> for free-form answers.
    /// </summary>
    public AnswerKind? AnswerKind { get; init; }

    /// <summary>Records with empty reasoning: kept (default), skipped, or an error.</summary>
    public EmptyReasoning EmptyReasoning { get; init; } = EmptyReasoning.Keep;
}

/// <summary>
/// Reads a dataset file, choosing the format by extension: <c>.txt</c> (GSM8k-Aug / iCoT: <c>question||reasoning #### answer</c>
/// per line), <c>.json</c> (an array of <c>{"question", "steps", "answer"}</c> objects) or <c>.jsonl</c> (one such object per line).
/// Every problem with the content is a <see cref="DataFormatException"/> naming the file and line; an unreadable file is an
/// <see cref="IOException"/>. Nothing else is thrown.
/// </summary>
public static class DatasetReader
{
    /// <summary>The extensions <see cref="Read"/> understands, with what each holds.</summary>
    public static IReadOnlyDictionary<string, string> Formats { get; } = new Dictionary<string, string>
    {
        [".txt"] = "one 'question||reasoning #### answer' per line",
        [".json"] = "a JSON array of {\"question\", \"steps\", \"answer\"} objects",
        [".jsonl"] = "one {\"question\", \"steps\", \"answer\"} JSON object per line",
    };

    /// <summary>Reads all samples of <paramref name="path"/>; the extension picks the format.</summary>
    public static IReadOnlyList<Sample> Read(string path, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".txt": return IcotTextFormat.Read(path, options);
            case ".json": return JsonDatasetFormat.ReadArray(path, options);
            case ".jsonl": return JsonDatasetFormat.ReadLines(path, options);
            default:
                throw new DataFormatException(path, 0,
                    $"unknown data format '{Path.GetExtension(path)}': expected " + string.Join(", ", Formats.Select(f => $"{f.Key} ({f.Value})")));
        }
    }

    /// <summary>Reads a whole file; access problems become <see cref="IOException"/>s naming the file.</summary>
    internal static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"{path}: cannot read the file ({e.Message})", e);
        }
    }

    /// <summary>A <see cref="DataFormatException"/> whose message stays on one line.</summary>
    internal static DataFormatException Error(string file, int line, string problem) =>
        new(file, line, problem.ReplaceLineEndings(" "));

    /// <summary>Checks the answer against the file's kind, fixing the kind from the first record when not given.</summary>
    internal static string? CheckAnswer(string answer, ref AnswerKind? kind)
    {
        if (string.IsNullOrWhiteSpace(answer)) return "empty answer";
        kind ??= Answers.Infer(answer);
        return Answers.Problem(answer, kind.Value);
    }

    /// <summary>True for the errors a reader passes through; anything else is a bug turned into a DataFormatException.</summary>
    internal static bool IsExpected(Exception e) => e is DataFormatException or IOException or OutOfMemoryException;
}
