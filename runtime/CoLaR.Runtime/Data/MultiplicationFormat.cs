namespace CoLaR.Data;

/// <summary>
/// The iCoT multi-digit multiplication format (e.g. <c>mult-4x4/valid.txt</c>). All numbers are written as
/// space-separated digits, least significant first. Question: <c>a * b</c>. Steps: for each digit b_i of b, the
/// partial product a·b_i·10^i written with len(a)+1+i digits; from the second partial product on, except for the
/// last, it is followed by the running sum of the partial products so far in parentheses (same width). The answer
/// is the product with len(a)+len(b) digits.
/// <code>5 6 3 2 * 7 4 3 4||5 5 5 6 1 + 0 0 6 4 9 0 ( 5 5 1 1 1 1 ) + … + 0 0 0 0 6 4 9 0 #### 5 5 6 0 8 2 0 1</code>
/// </summary>
public static class MultiplicationFormat
{
    /// <summary>The sample for operands given as digit lists, least significant digit first.</summary>
    public static Sample Create(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count == 0 || b.Count == 0) throw new ArgumentException("Both operands need at least one digit.");
        if (a.Concat(b).Any(d => d is < 0 or > 9)) throw new ArgumentException("Operand digits must be 0..9.");

        var steps = new List<string>();
        int[] sum = [];
        for (int i = 0; i < b.Count; i++)
        {
            int width = a.Count + 1 + i;
            var partial = Shifted(MultiplyByDigit(a, b[i]), i, width);
            sum = Add(sum, partial, width);
            bool showSum = i > 0 && i < b.Count - 1;
            steps.Add(showSum ? $"{Digits(partial)} ( {Digits(sum)} )" : Digits(partial));
        }
        var answer = Add(sum, [], a.Count + b.Count);
        var question = $"{Digits(a)} * {Digits(b)}";
        return new Sample(question, steps, Digits(answer)) { AnswerKind = AnswerKind.DigitSequence };
    }

    /// <summary>Reads the operands of a question "d d d * d d d" (least significant digit first).</summary>
    public static bool TryParseQuestion(string question, out int[] a, out int[] b)
    {
        a = b = [];
        ArgumentNullException.ThrowIfNull(question);
        var parts = question.Split(" * ");
        if (parts.Length != 2 || !Answers.IsDigitSequence(parts[0]) || !Answers.IsDigitSequence(parts[1])) return false;
        a = ParseDigits(parts[0]);
        b = ParseDigits(parts[1]);
        return true;
    }

    /// <summary>A random operand with <paramref name="digits"/> digits (least significant first; the leading digit is not 0).</summary>
    internal static int[] RandomOperand(SeededRandom random, int digits)
    {
        var result = new int[digits];
        for (int i = 0; i < digits; i++) result[i] = random.Next(i == digits - 1 ? 1 : 0, 9);
        return result;
    }

    static int[] ParseDigits(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t => t[0] - '0').ToArray();

    static string Digits(IEnumerable<int> digits) => string.Join(' ', digits);

    static int[] MultiplyByDigit(IReadOnlyList<int> a, int digit)
    {
        var result = new int[a.Count + 1];
        int carry = 0;
        for (int i = 0; i < a.Count; i++)
        {
            int value = a[i] * digit + carry;
            result[i] = value % 10;
            carry = value / 10;
        }
        result[a.Count] = carry;
        return result;
    }

    static int[] Shifted(int[] digits, int shift, int width)
    {
        var result = new int[width];
        for (int i = 0; i < digits.Length && i + shift < width; i++) result[i + shift] = digits[i];
        return result;
    }

    static int[] Add(IReadOnlyList<int> x, IReadOnlyList<int> y, int width)
    {
        var result = new int[width];
        int carry = 0;
        for (int i = 0; i < width; i++)
        {
            int value = (i < x.Count ? x[i] : 0) + (i < y.Count ? y[i] : 0) + carry;
            result[i] = value % 10;
            carry = value / 10;
        }
        if (carry != 0 || x.Skip(width).Any(d => d != 0) || y.Skip(width).Any(d => d != 0))
            throw new InvalidOperationException("A partial sum overflowed its width; the format's widths cannot hold it.");
        return result;
    }
}
