namespace CoLaR.Data;

/// <summary>Where a record came from, for error messages: file and 1-based line (or JSON element index).</summary>
public sealed record SourceRef(string File, int Line)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>One reasoning problem: a question, its reasoning steps (e.g. GSM8k-Aug equations), and the answer.</summary>
public sealed record Sample(string Question, IReadOnlyList<string> Steps, string Answer)
{
    /// <summary>The file and line it was read from (null for generated samples).</summary>
    public SourceRef? Source { get; init; }

    /// <summary>How <see cref="Answer"/> is compared with a prediction (see <see cref="Answers.Matches"/>).</summary>
    public AnswerKind AnswerKind { get; init; } = AnswerKind.Numeric;
}

/// <summary>A data file that cannot be used, reported before any training starts: names the file and line.</summary>
public sealed class DataFormatException(string file, int line, string problem)
    : Exception($"{file}:{line}: {problem}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Problem { get; } = problem;
}
