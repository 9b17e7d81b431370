using CoLaR.Data;
using Xunit;

namespace CoLaR.Runtime.Tests.Data;

/// <summary>The readers on the real held-out sets in ../shared/data.</summary>
public class RealDataTests
{
    [Theory]
    [InlineData("gsm8k", 500, AnswerKind.Numeric)]
    [InlineData("mult4", 1000, AnswerKind.DigitSequence)]
    [InlineData("mult5", 1000, AnswerKind.DigitSequence)]
    public void Reads_every_line_with_its_source_and_answer_kind(string which, int count, AnswerKind kind)
    {
        var path = Path(which);
        var samples = DatasetReader.Read(path);
        Assert.Equal(count, samples.Count);
        for (int i = 0; i < samples.Count; i++)
        {
            Assert.Equal(new SourceRef(path, i + 1), samples[i].Source);
            Assert.Equal(kind, samples[i].AnswerKind);
        }
    }

    [Fact]
    public void Gsm8k_first_line_has_its_four_equations()
    {
        var sample = DatasetReader.Read(DataFiles.Gsm8kValid)[0];
        Assert.StartsWith("John cuts his grass to 2 inches.", sample.Question);
        Assert.EndsWith("How much does he pay per year?", sample.Question);
        Assert.Equal(["<<4-2=2>>", "<<2/.5=4>>", "<<12/4=3>>", "<<100*3=300>>"], sample.Steps);
        Assert.Equal("300", sample.Answer);
    }

    [Fact]
    public void Gsm8k_step_counts_and_comma_answers()
    {
        var samples = DatasetReader.Read(DataFiles.Gsm8kValid);
        Assert.Equal(3, samples[1].Steps.Count); // Hannah's dogs: <<1.5*2=3>> <<3+2.5=5.5>> <<1.5+3+5.5=10>>
        Assert.Equal("<<1.5+3+5.5=10>>", samples[1].Steps[2]);
        Assert.Equal(2, samples[2].Steps.Count); // Travis' ticket
        Assert.All(samples.SelectMany(s => s.Steps), s => Assert.Matches("^<<[^<>]+>>$", s));
        // Comma answers are kept as written and still parse as numbers.
        var withComma = samples.Where(s => s.Answer.Contains(',')).ToList();
        Assert.Equal(4, withComma.Count);
        Assert.All(withComma, s => Assert.True(Answers.TryParseNumber(s.Answer, out _)));
    }

    [Fact]
    public void Gsm8k_lines_without_reasoning_are_kept_by_default()
    {
        // Six questions of the published split have "|| #### answer": no equations.
        var empty = DatasetReader.Read(DataFiles.Gsm8kValid).Where(s => s.Steps.Count == 0).Select(s => s.Source!.Line).ToArray();
        Assert.Equal([90, 187, 328, 412, 446, 469], empty);
    }

    [Fact]
    public void Gsm8k_empty_reasoning_can_be_skipped_or_refused()
    {
        var skipped = DatasetReader.Read(DataFiles.Gsm8kValid, new DatasetReadOptions { EmptyReasoning = EmptyReasoning.Skip });
        Assert.Equal(494, skipped.Count);
        var e = Assert.Throws<DataFormatException>(() =>
            DatasetReader.Read(DataFiles.Gsm8kValid, new DatasetReadOptions { EmptyReasoning = EmptyReasoning.Error }));
        Assert.Equal($"{DataFiles.Gsm8kValid}:90: empty reasoning between '||' and '####'", e.Message);
    }

    [Fact]
    public void Multiplication_steps_are_the_plus_separated_partial_products()
    {
        var four = DatasetReader.Read(DataFiles.Mult4x4Valid)[0];
        Assert.Equal("5 6 3 2 * 7 4 3 4", four.Question);
        Assert.Equal(["5 5 5 6 1", "0 0 6 4 9 0 ( 5 5 1 1 1 1 )", "0 0 5 9 0 7 0 ( 5 5 6 0 2 8 0 )", "0 0 0 0 6 4 9 0"], four.Steps);
        Assert.Equal("5 5 6 0 8 2 0 1", four.Answer);

        var five = DatasetReader.Read(DataFiles.Mult5x5Valid);
        Assert.All(five, s => Assert.Equal(5, s.Steps.Count));
        Assert.Equal("0 0 0 0 8 6 0 0 0 1", five[1].Steps[4]);
        Assert.All(DatasetReader.Read(DataFiles.Mult4x4Valid), s => Assert.Equal(4, s.Steps.Count));
    }

    [Theory]
    [InlineData("mult4")]
    [InlineData("mult5")]
    public void Generator_rule_reproduces_every_multiplication_line(string which)
    {
        var lines = File.ReadAllLines(Path(which));
        Assert.Equal(1000, lines.Length);
        foreach (var line in lines)
        {
            var question = line[..line.IndexOf("||", StringComparison.Ordinal)];
            Assert.True(MultiplicationFormat.TryParseQuestion(question, out var a, out var b), line);
            Assert.Equal(line, IcotTextFormat.FormatLine(MultiplicationFormat.Create(a, b)));
        }
    }

    static string Path(string which) => which switch
    {
        "gsm8k" => DataFiles.Gsm8kValid,
        "mult4" => DataFiles.Mult4x4Valid,
        _ => DataFiles.Mult5x5Valid,
    };
}
