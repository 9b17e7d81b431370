using System.Text;
using CoLaR.Inference;

namespace CoLaR.Evaluation;

/// <summary>
/// Decides whether a predicted answer is correct. Accuracy numbers in our results come from here, so the
/// rules are deliberately simple, strict and written down:
/// <list type="number">
/// <item><b>Extraction</b> is not done here: pass the text after <c>Answer:</c>
/// (<see cref="GeneratedAnswer.Answer"/> already takes the text after the last <c>Answer:</c>).</item>
/// <item><b>Canonical text</b> (both sides): trim white space; remove every comma (commas are thousands
/// separators: "1,400" is 1400, and "3,5" is 35, never 3.5); then remove one trailing period ("18." is "18").</item>
/// <item><b>Digit sequences</b>: when the gold answer is two or more groups of digits separated by white
/// space (the multiplication data sets write "5 5 6 0 8 2 0 1"), the prediction is correct when it equals the
/// gold with all white space removed on both sides. Leading zeros count: those answers are digit strings
/// (often reversed), not numbers.</item>
/// <item><b>Numbers</b>: when the gold answer is a number, the prediction is correct when it is a number with
/// the same exact decimal value: "18" = "18.0" = "+18" = "$18", "-0" = "0", "0.50" = ".5". A number is an
/// optional sign (+, -, or U+2212), an optional currency sign ($ € £ ¥, before or after the sign), digits with
/// at most one decimal point (followed by at least one digit), and nothing else: no exponent, no percent sign, no units, no inner spaces. Values
/// are compared exactly as decimal strings, so there is no rounding and no overflow for long numbers.</item>
/// <item><b>Anything else</b> (text answers): ordinal, case-sensitive equality with all white space removed.</item>
/// </list>
/// A null or blank prediction is wrong. A blank gold answer is a data error and throws.
/// </summary>
public static class AnswerMatcher
{
    static readonly char[] CurrencySigns = ['$', '€', '£', '¥'];

    /// <summary>Is <paramref name="predicted"/> (the text after "Answer:") the <paramref name="gold"/> answer?</summary>
    /// <exception cref="ArgumentException">The gold answer is blank.</exception>
    public static bool IsCorrect(string? predicted, string gold)
    {
        ArgumentNullException.ThrowIfNull(gold);
        string g = Canonical(gold);
        if (g.Length == 0)
            throw new ArgumentException("The gold answer is blank; the data set is broken.", nameof(gold));
        if (predicted is null)
            return false;
        string p = Canonical(predicted);
        if (p.Length == 0)
            return false;

        if (IsDigitSequence(g))
            return RemoveWhiteSpace(p) == RemoveWhiteSpace(g);
        if (ParseNumber(g, out string goldNumber))
            return ParseNumber(p, out string predictedNumber) && predictedNumber == goldNumber;
        return RemoveWhiteSpace(p) == RemoveWhiteSpace(g);
    }

    /// <summary>Is the generated answer correct? Uses <see cref="GeneratedAnswer.Answer"/>.</summary>
    public static bool IsCorrect(GeneratedAnswer answer, string gold)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return IsCorrect(answer.Answer, gold);
    }

    /// <summary>Step 2 of the rules: trimmed, commas removed, one trailing period removed.</summary>
    public static string Canonical(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Replace(",", "", StringComparison.Ordinal).Trim();
        if (s.EndsWith('.'))
            s = s[..^1].TrimEnd();
        return s;
    }

    /// <summary>Two or more white-space-separated groups of ASCII digits, e.g. "5 5 6 0" (after <see cref="Canonical"/>).</summary>
    public static bool IsDigitSequence(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int groups = 0;
        bool inGroup = false;
        foreach (char ch in text.Trim())
        {
            if (char.IsAsciiDigit(ch))
            {
                if (!inGroup) groups++;
                inGroup = true;
            }
            else if (char.IsWhiteSpace(ch))
                inGroup = false;
            else
                return false;
        }
        return groups >= 2;
    }

    /// <summary>
    /// Parses a number under the rules above into an exact canonical decimal string: "-" if negative,
    /// the integer part without leading zeros, and the fraction without trailing zeros
    /// ("$1,400.50" → "1400.5", "-0.0" → "0"). The text is passed through <see cref="Canonical"/> first.
    /// </summary>
    public static bool TryCanonicalNumber(string text, out string canonical)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ParseNumber(Canonical(text), out canonical);
    }

    // Parses text that is already canonical (so a second trailing period is not silently dropped).
    static bool ParseNumber(ReadOnlySpan<char> s, out string canonical)
    {
        canonical = "";
        bool negative = false, signSeen = false, currencySeen = false;
        // Sign and currency, in either order ("-$5", "$-5"), each at most once.
        while (s.Length > 0)
        {
            char c = s[0];
            if (!signSeen && (c == '-' || c == '+' || c == '\u2212'))
            {
                signSeen = true;
                negative = c != '+';
            }
            else if (!currencySeen && Array.IndexOf(CurrencySigns, c) >= 0)
                currencySeen = true;
            else
                break;
            s = s[1..];
        }

        int point = s.IndexOf('.');
        ReadOnlySpan<char> intPart = point < 0 ? s : s[..point];
        ReadOnlySpan<char> fracPart = point < 0 ? ReadOnlySpan<char>.Empty : s[(point + 1)..];
        // A point needs digits after it: "5." was already forgiven as a sentence end, "5.." is not a number.
        if (intPart.Length + fracPart.Length == 0 || (point >= 0 && fracPart.Length == 0) || !AllDigits(intPart) || !AllDigits(fracPart))
            return false;

        intPart = intPart.TrimStart('0');
        fracPart = fracPart.TrimEnd('0');
        var sb = new StringBuilder(intPart.Length + fracPart.Length + 3);
        bool zero = intPart.Length == 0 && fracPart.Length == 0;
        if (negative && !zero) sb.Append('-');
        if (intPart.Length == 0) sb.Append('0'); else sb.Append(intPart);
        if (fracPart.Length > 0) sb.Append('.').Append(fracPart);
        canonical = sb.ToString();
        return true;
    }

    static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
            if (!char.IsAsciiDigit(c)) return false;
        return true;
    }

    static string RemoveWhiteSpace(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
            if (!char.IsWhiteSpace(c)) sb.Append(c);
        return sb.ToString();
    }
}
