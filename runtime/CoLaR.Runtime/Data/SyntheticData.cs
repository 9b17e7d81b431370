using System.Globalization;
using static CoLaR.Data.WordProblemVocabulary;

namespace CoLaR.Data;

/// <summary>The operations a word-problem event may use.</summary>
[Flags]
public enum WordProblemOperations
{
    /// <summary>Buys / finds / gets more: <c>+</c>.</summary>
    Add = 1,
    /// <summary>Gives away / eats / loses / sells: <c>-</c>.</summary>
    Subtract = 2,
    /// <summary>"Now has k times as many": <c>*</c>.</summary>
    Multiply = 4,
    /// <summary>"Splits into k equal shares and keeps one": <c>/</c>, always exact.</summary>
    Divide = 8,
    /// <summary>All four.</summary>
    All = Add | Subtract | Multiply | Divide,
}

/// <summary>Shape of generated word problems.</summary>
public sealed record WordProblemOptions
{
    /// <summary>Fewest events (= reasoning steps) per problem.</summary>
    public int MinSteps { get; init; } = 2;

    /// <summary>Most events per problem.</summary>
    public int MaxSteps { get; init; } = 4;

    /// <summary>Smallest starting count and smallest amount added or removed.</summary>
    public int MinOperand { get; init; } = 1;

    /// <summary>Largest starting count and largest amount added or removed.</summary>
    public int MaxOperand { get; init; } = 20;

    /// <summary>Largest factor of "k times as many" and largest number of shares (the smallest is 2).</summary>
    public int MaxFactor { get; init; } = 5;

    /// <summary>Every count, including intermediate ones, stays in [0, MaxValue].</summary>
    public int MaxValue { get; init; } = 200;

    /// <summary>The operations events may use.</summary>
    public WordProblemOperations Operations { get; init; } = WordProblemOperations.All;

    internal void Validate()
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"Invalid word-problem options: {message}.");
        }
        Require(MinSteps >= 1, $"MinSteps must be at least 1 (is {MinSteps})");
        Require(MaxSteps >= MinSteps, $"MaxSteps ({MaxSteps}) must be at least MinSteps ({MinSteps})");
        Require(MinOperand >= 1, $"MinOperand must be at least 1 (is {MinOperand})");
        Require(MaxOperand >= MinOperand, $"MaxOperand ({MaxOperand}) must be at least MinOperand ({MinOperand})");
        Require(MaxValue >= MinOperand, $"MaxValue ({MaxValue}) must be at least MinOperand ({MinOperand})");
        Require(Operations != 0 && (Operations & ~WordProblemOperations.All) == 0, $"Operations must be a non-empty combination of Add, Subtract, Multiply, Divide (is {Operations})");
        Require((Operations & (WordProblemOperations.Multiply | WordProblemOperations.Divide)) == 0 || MaxFactor >= 2,
            $"MaxFactor must be at least 2 when Multiply or Divide is allowed (is {MaxFactor})");
    }
}

/// <summary>Seeded, deterministic synthetic datasets: iCoT multiplication and GSM8k-Aug-style word problems.</summary>
public static class SyntheticData
{
    const int MaxAttemptsPerProblem = 1000;

    /// <summary>
    /// <paramref name="count"/> multiplication problems in the exact iCoT format (<see cref="MultiplicationFormat"/>), with
    /// operands of <paramref name="digitsA"/> and <paramref name="digitsB"/> digits (leading digit not 0).
    /// The same arguments always give the same samples; a smaller count gives a prefix.
    /// </summary>
    public static IReadOnlyList<Sample> Multiplication(int count, int digitsA, int digitsB, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(digitsA, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(digitsB, 1);
        var random = new SeededRandom(seed);
        var samples = new List<Sample>(count);
        for (int i = 0; i < count; i++)
        {
            var a = MultiplicationFormat.RandomOperand(random, digitsA);
            var b = MultiplicationFormat.RandomOperand(random, digitsB);
            samples.Add(MultiplicationFormat.Create(a, b));
        }
        return samples;
    }

    /// <summary>
    /// <paramref name="count"/> grade-school word problems in the GSM8k-Aug format: a person starts with some items, a chain
    /// of events changes the count, and the question asks for the final count. Steps are the equations
    /// <c>&lt;&lt;12+7=19&gt;&gt;</c>, each using the previous result; every intermediate result is a non-negative
    /// integer no larger than <see cref="WordProblemOptions.MaxValue"/>. The same arguments always give the same samples.
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent options.</exception>
    /// <exception cref="InvalidOperationException">The options admit no problem (e.g. only Multiply with a tiny MaxValue).</exception>
    public static IReadOnlyList<Sample> WordProblems(int count, WordProblemOptions? options = null, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        options ??= new WordProblemOptions();
        options.Validate();
        var random = new SeededRandom(seed);
        var samples = new List<Sample>(count);
        for (int i = 0; i < count; i++)
        {
            Sample? sample = null;
            for (int attempt = 0; attempt < MaxAttemptsPerProblem && sample is null; attempt++) sample = TryWordProblem(random, options);
            samples.Add(sample ?? throw new InvalidOperationException(
                $"No word problem satisfies the options after {MaxAttemptsPerProblem} attempts: {options}."));
        }
        return samples;
    }

    /// <summary>One problem, or null when the random walk reached a count no allowed operation can continue from.</summary>
    static Sample? TryWordProblem(SeededRandom random, WordProblemOptions o)
    {
        var person = random.Pick(People);
        var item = random.Pick(Items);
        var others = People.Where(p => p.Name != person.Name).ToArray();
        int events = random.Next(o.MinSteps, o.MaxSteps);
        int value = random.Next(o.MinOperand, Math.Min(o.MaxOperand, o.MaxValue));

        var sentences = new List<string> { Fill(Start, person, item, value, null) };
        var steps = new List<string>();
        var feasible = new List<WordProblemOperations>(4);
        for (int e = 0; e < events; e++)
        {
            feasible.Clear();
            bool Allowed(WordProblemOperations op) => (o.Operations & op) != 0;
            if (Allowed(WordProblemOperations.Add) && value + o.MinOperand <= o.MaxValue) feasible.Add(WordProblemOperations.Add);
            if (Allowed(WordProblemOperations.Subtract) && value >= o.MinOperand) feasible.Add(WordProblemOperations.Subtract);
            if (Allowed(WordProblemOperations.Multiply) && value > 0 && value * 2L <= o.MaxValue) feasible.Add(WordProblemOperations.Multiply);
            if (Allowed(WordProblemOperations.Divide) && Divisors(value, o.MaxFactor).Any()) feasible.Add(WordProblemOperations.Divide);
            if (feasible.Count == 0) return null;

            int k, result;
            string sentence;
            char symbol;
            switch (random.Pick(feasible))
            {
                case WordProblemOperations.Add:
                    k = random.Next(o.MinOperand, Math.Min(o.MaxOperand, o.MaxValue - value));
                    result = value + k;
                    symbol = '+';
                    sentence = Fill(random.Pick(Gains), person, item, k, random.Pick(others));
                    break;
                case WordProblemOperations.Subtract:
                    k = random.Next(o.MinOperand, Math.Min(o.MaxOperand, value));
                    result = value - k;
                    symbol = '-';
                    string[] losses = item.Edible ? [.. Losses, Eats] : Losses;
                    sentence = Fill(random.Pick(losses), person, item, k, random.Pick(others));
                    break;
                case WordProblemOperations.Multiply:
                    k = random.Next(2, (int)Math.Min(o.MaxFactor, o.MaxValue / value));
                    result = value * k;
                    symbol = '*';
                    sentence = Fill(Multiplies, person, item, k, null);
                    break;
                default:
                    var divisors = Divisors(value, o.MaxFactor).ToArray();
                    k = random.Pick(divisors);
                    result = value / k;
                    symbol = '/';
                    sentence = Fill(Divides, person, item, k, null);
                    break;
            }
            steps.Add($"<<{Number(value)}{symbol}{Number(k)}={Number(result)}>>");
            sentences.Add(sentence);
            value = result;
        }
        sentences.Add(Fill(Question, person, item, 0, null));
        return new Sample(string.Join(" ", sentences), steps, Number(value)) { AnswerKind = AnswerKind.Numeric };
    }

    /// <summary>The share counts k in 2..maxFactor that divide <paramref name="value"/> exactly (value &gt; 0).</summary>
    static IEnumerable<int> Divisors(int value, int maxFactor)
    {
        for (int k = 2; k <= maxFactor && value > 0; k++)
            if (value % k == 0) yield return k;
    }

    static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Fills a template; the item noun is singular when the number is 1 and the template counts with it.</summary>
    static string Fill(string template, Person person, Item item, int k, Person? other)
    {
        bool countsItems = template.Contains("{k} {items}", StringComparison.Ordinal) || template.Contains("{k} more {items}", StringComparison.Ordinal);
        return template
            .Replace("{name}", person.Name)
            .Replace("{P}", person.Subject)
            .Replace("{p}", person.Possessive)
            .Replace("{k}", Number(k))
            .Replace("{items}", countsItems && k == 1 ? item.Singular : item.Plural)
            .Replace("{other}", other?.Name ?? "");
    }
}
