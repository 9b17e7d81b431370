using System.Numerics;
using System.Text.RegularExpressions;
using CoLaR.Data;
using Xunit;

namespace CoLaR.Runtime.Tests.Data;

/// <summary>The seeded generators and the writer.</summary>
public class SyntheticDataTests
{
    static readonly Regex Equation = new(@"^<<(\d+)([-+*/])(\d+)=(\d+)>>$");

    [Fact]
    public void Multiplication_products_are_correct_and_operands_have_the_asked_digits()
    {
        var samples = SyntheticData.Multiplication(200, 3, 6, seed: 11);
        Assert.Equal(200, samples.Count);
        foreach (var s in samples)
        {
            Assert.True(MultiplicationFormat.TryParseQuestion(s.Question, out var a, out var b));
            Assert.Equal(3, a.Length);
            Assert.Equal(6, b.Length);
            Assert.NotEqual(0, a[^1]);
            Assert.NotEqual(0, b[^1]);
            Assert.Equal(6, s.Steps.Count);
            Assert.Equal(AnswerKind.DigitSequence, s.AnswerKind);
            var answer = s.Answer.Split(' ');
            Assert.Equal(9, answer.Length);
            Assert.Equal(Value(a) * Value(b), Value(answer.Select(int.Parse).ToArray()));
        }
    }

    [Fact]
    public void Generators_are_deterministic_per_seed()
    {
        var options = new WordProblemOptions { MaxSteps = 6 };
        Assert.Equal(Lines(SyntheticData.WordProblems(50, options, 3)), Lines(SyntheticData.WordProblems(50, options, 3)));
        Assert.NotEqual(Lines(SyntheticData.WordProblems(50, options, 3)), Lines(SyntheticData.WordProblems(50, options, 4)));
        Assert.Equal(Lines(SyntheticData.WordProblems(50, options, 3)).Take(20), Lines(SyntheticData.WordProblems(20, options, 3)));
        Assert.Equal(Lines(SyntheticData.Multiplication(30, 4, 4, 9)), Lines(SyntheticData.Multiplication(30, 4, 4, 9)));
        Assert.NotEqual(Lines(SyntheticData.Multiplication(30, 4, 4, 9)), Lines(SyntheticData.Multiplication(30, 4, 4, 10)));
        // Pinned output: the generator's sequence must not change silently (it is the training data of the tests).
        Assert.Equal(
            "Max has 9 apples. He now has 4 times as many apples as before. He now has 3 times as many apples as before. How many apples does Max have now?||<<9*4=36>> <<36*3=108>> #### 108",
            IcotTextFormat.FormatLine(SyntheticData.WordProblems(1, null, 1)[0]));
    }

    [Fact]
    public void Word_problem_equations_chain_and_stay_in_range()
    {
        var options = new WordProblemOptions { MinSteps = 2, MaxSteps = 5, MinOperand = 1, MaxOperand = 15, MaxFactor = 4, MaxValue = 120 };
        var samples = SyntheticData.WordProblems(500, options, seed: 42);
        var used = new HashSet<char>();
        foreach (var s in samples)
        {
            Assert.InRange(s.Steps.Count, 2, 5);
            Assert.Equal(AnswerKind.Numeric, s.AnswerKind);
            Assert.EndsWith("have now?", s.Question);
            int? previous = null;
            foreach (var step in s.Steps)
            {
                var m = Equation.Match(step);
                Assert.True(m.Success, step);
                int x = int.Parse(m.Groups[1].Value), k = int.Parse(m.Groups[3].Value), result = int.Parse(m.Groups[4].Value);
                char op = m.Groups[2].Value[0];
                used.Add(op);
                Assert.Equal(op switch { '+' => x + k, '-' => x - k, '*' => x * k, _ => x / k }, result);
                if (op == '/') Assert.Equal(0, x % k);
                if (op is '+' or '-') Assert.InRange(k, 1, 15);
                else Assert.InRange(k, 2, 4);
                Assert.InRange(result, 0, 120);
                if (previous is { } p) Assert.Equal(p, x);
                else Assert.Matches($@"^[A-Z][a-z]+ has {x} [a-z]+\.", s.Question); // the first equation starts from the starting count
                previous = result;
            }
            Assert.Equal(previous.ToString(), s.Answer);
        }
        Assert.Equal(['*', '+', '-', '/'], used.Order()); // every operation occurs
    }

    [Fact]
    public void Word_problem_options_restrict_operations_and_are_validated()
    {
        var onlyAddSub = SyntheticData.WordProblems(200, new WordProblemOptions { Operations = WordProblemOperations.Add | WordProblemOperations.Subtract }, 5);
        Assert.All(onlyAddSub.SelectMany(s => s.Steps), step => Assert.Matches(@"^<<\d+[-+]\d+=\d+>>$", step));

        Assert.Throws<ArgumentException>(() => SyntheticData.WordProblems(1, new WordProblemOptions { MinSteps = 3, MaxSteps = 2 }));
        Assert.Throws<ArgumentException>(() => SyntheticData.WordProblems(1, new WordProblemOptions { MinOperand = 0 }));
        Assert.Throws<ArgumentException>(() => SyntheticData.WordProblems(1, new WordProblemOptions { Operations = 0 }));
        Assert.Throws<ArgumentException>(() => SyntheticData.WordProblems(1, new WordProblemOptions { MaxFactor = 1 }));
        // Start 1, only "times as many" and nothing may exceed 1: no problem exists.
        Assert.Throws<InvalidOperationException>(() => SyntheticData.WordProblems(1,
            new WordProblemOptions { Operations = WordProblemOperations.Multiply, MaxOperand = 1, MaxValue = 1 }));
    }

    [Fact]
    public void Word_problems_use_singular_for_one_item()
    {
        var samples = SyntheticData.WordProblems(300, new WordProblemOptions { MaxOperand = 3 }, 8);
        Assert.Contains(samples, s => Regex.IsMatch(s.Question, @"\b1 [a-z]+[^s]\."));
        Assert.DoesNotContain(samples, s => Regex.IsMatch(s.Question, @"\b1 (more )?(apples|oranges|cookies|candies|marbles|stickers|pencils|coins)\b"));
    }

    [Theory]
    [InlineData(".txt")]
    [InlineData(".json")]
    [InlineData(".jsonl")]
    public void Writer_output_reads_back_to_the_same_samples(string extension)
    {
        using var dir = new DataFiles.TempDirectory();
        var sets = new[] { SyntheticData.WordProblems(100, null, 1), SyntheticData.Multiplication(100, 4, 5, 2) };
        foreach (var samples in sets)
        {
            var path = dir.File("out" + extension);
            DatasetWriter.Write(path, samples);
            var back = DatasetReader.Read(path);
            Assert.Equal(samples.Count, back.Count);
            for (int i = 0; i < samples.Count; i++)
            {
                Assert.Equal(samples[i].Question, back[i].Question);
                Assert.Equal(samples[i].Steps, back[i].Steps);
                Assert.Equal(samples[i].Answer, back[i].Answer);
                Assert.Equal(samples[i].AnswerKind, back[i].AnswerKind);
            }
        }
    }

    [Fact]
    public void Writer_refuses_unknown_extensions_and_unwritable_samples()
    {
        using var dir = new DataFiles.TempDirectory();
        Assert.Throws<ArgumentException>(() => DatasetWriter.Write(dir.File("x.csv"), SyntheticData.WordProblems(1)));
        var path = dir.File("x.txt");
        Assert.Throws<ArgumentException>(() => DatasetWriter.Write(path, [new Sample("a||b", ["<<1+1=2>>"], "2")]));
        Assert.False(File.Exists(path));
    }

    static BigInteger Value(int[] digitsLeastSignificantFirst) =>
        digitsLeastSignificantFirst.Reverse().Aggregate(BigInteger.Zero, (acc, d) => acc * 10 + d);

    static List<string> Lines(IEnumerable<Sample> samples) => samples.Select(IcotTextFormat.FormatLine).ToList();
}
