using System.Globalization;

namespace CoLaR.Data;

/// <summary>What an answer is, which decides how a prediction is compared with it.</summary>
public enum AnswerKind
{
    /// <summary>A number (GSM8k): "18", "1,400", "2.5". Compared as numbers after removing commas.</summary>
    Numeric = 0,

    /// <summary>Space-separated digits, least significant first (iCoT multiplication): "5 5 6 0 8 2 0 1". Compared with spaces removed.</summary>
    DigitSequence = 1,

    /// <summary>Free text (e.g. LaTeX answers). Compared after trimming. Only used when a reader is told so.</summary>
    Text = 2,
}

/// <summary>Answer normalisation and comparison, as the method evaluates: strip, drop commas, compare as numbers when both parse.</summary>
public static class Answers
{
    const NumberStyles NumberStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    /// <summary>Parses a numeric answer: trimmed, commas removed, invariant culture ("1,400" → 1400, "-2.5", ".5").</summary>
    public static bool TryParseNumber(string? text, out decimal value)
    {
        value = 0;
        if (text is null) return false;
        var cleaned = text.Trim().Replace(",", "", StringComparison.Ordinal);
        if (cleaned.Length == 0) return false;
        // decimal: exact for the decimals answers are written in (0.1 + 0.2 stays 0.3); ±7.9e28 is range enough.
        return decimal.TryParse(cleaned, NumberStyle, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>True for one or more single digits separated by whitespace ("5 5 6 0").</summary>
    public static bool IsDigitSequence(string? text)
    {
        if (text is null) return false;
        var tokens = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return tokens.Length > 0 && tokens.All(t => t.Length == 1 && char.IsAsciiDigit(t[0]));
    }

    /// <summary>
    /// The kind a data file's answers have, judged from one answer: at least two space-separated digits is a
    /// digit sequence (multiplication), anything else is taken as numeric. <see cref="AnswerKind.Text"/> is never inferred.
    /// </summary>
    public static AnswerKind Infer(string answer) =>
        IsDigitSequence(answer) && answer.Trim().Contains(' ') ? AnswerKind.DigitSequence : AnswerKind.Numeric;

    /// <summary>The answer in its comparable form: "1,400.50" → "1400.5", "5 5 6 0" → "5560", text trimmed.</summary>
    public static string Normalize(string answer, AnswerKind kind)
    {
        ArgumentNullException.ThrowIfNull(answer);
        switch (kind)
        {
            case AnswerKind.DigitSequence:
                return string.Concat(answer.Where(c => !char.IsWhiteSpace(c)));
            case AnswerKind.Numeric:
                if (TryParseNumber(answer, out var value)) return Canonical(value);
                return answer.Trim().Replace(",", "", StringComparison.Ordinal);
            default:
                return answer.Trim();
        }
    }

    /// <summary>Whether a predicted answer equals the gold one under <paramref name="kind"/>'s rule.</summary>
    public static bool Matches(string predicted, string gold, AnswerKind kind)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(gold);
        if (kind == AnswerKind.Numeric && TryParseNumber(predicted, out var p) && TryParseNumber(gold, out var g)) return p == g;
        return string.Equals(Normalize(predicted, kind), Normalize(gold, kind), StringComparison.Ordinal);
    }

    /// <summary>Why <paramref name="answer"/> cannot be an answer of <paramref name="kind"/>, or null when it can.</summary>
    public static string? Problem(string answer, AnswerKind kind)
    {
        if (string.IsNullOrWhiteSpace(answer)) return "empty answer";
        return kind switch
        {
            AnswerKind.Numeric when !TryParseNumber(answer, out _) =>
                $"answer '{Clip(answer)}' is not a number (GSM8k-style answers must parse as a number after removing commas)",
            AnswerKind.DigitSequence when !IsDigitSequence(answer) =>
                $"answer '{Clip(answer)}' is not a sequence of space-separated digits (multiplication answers look like '5 5 6 0 8 2 0 1')",
            _ => null,
        };
    }

    static string Canonical(decimal value)
    {
        var text = value.ToString(CultureInfo.InvariantCulture);
        if (text.Contains('.')) text = text.TrimEnd('0').TrimEnd('.');
        return text == "-0" ? "0" : text;
    }

    internal static string Clip(string text, int max = 60) => text.Length <= max ? text : text[..max] + "…";
}
