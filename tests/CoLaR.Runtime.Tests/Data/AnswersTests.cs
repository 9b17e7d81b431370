using CoLaR.Data;
using Xunit;

namespace CoLaR.Runtime.Tests.Data;

public class AnswersTests
{
    [Theory]
    [InlineData("1,400", "1400", true)]
    [InlineData(" 18 ", "18.0", true)]
    [InlineData("18.", "18", true)]
    [InlineData("0.5", ".5", true)]
    [InlineData("-3", "3", false)]
    [InlineData("17", "18", false)]
    [InlineData("$18", "18", false)] // the method compares as numbers only when both parse
    [InlineData("abc", "abc", true)]
    [InlineData("", "0", false)]
    public void Numeric_answers_compare_as_numbers_after_dropping_commas(string predicted, string gold, bool match)
    {
        Assert.Equal(match, Answers.Matches(predicted, gold, AnswerKind.Numeric));
    }

    [Theory]
    [InlineData("5 5 6 0 8 2 0 1", "55608201", true)]
    [InlineData("5 5 6 0 8 2 0 1", " 5 5 6 0  8 2 0 1 ", true)]
    [InlineData("5 5 6 0 8 2 0 1", "5 5 6 0 8 2 0 2", false)]
    [InlineData("0 1", "1 0", false)]
    public void Digit_sequences_compare_without_spaces(string predicted, string gold, bool match)
    {
        Assert.Equal(match, Answers.Matches(predicted, gold, AnswerKind.DigitSequence));
    }

    [Fact]
    public void Normalize_and_infer()
    {
        Assert.Equal("1400.5", Answers.Normalize("1,400.50", AnswerKind.Numeric));
        Assert.Equal("0", Answers.Normalize("-0.0", AnswerKind.Numeric));
        Assert.Equal("300", Answers.Normalize("300", AnswerKind.Numeric));
        Assert.Equal("55608201", Answers.Normalize("5 5 6 0 8 2 0 1", AnswerKind.DigitSequence));
        Assert.Equal("x y", Answers.Normalize("  x y ", AnswerKind.Text));
        Assert.Equal(AnswerKind.DigitSequence, Answers.Infer("5 5 6 0"));
        Assert.Equal(AnswerKind.Numeric, Answers.Infer("5"));
        Assert.Equal(AnswerKind.Numeric, Answers.Infer("27,200"));
        Assert.Equal(AnswerKind.Numeric, Answers.Infer("hello")); // never Text: a bad GSM answer must be reported
        Assert.Null(Answers.Problem("27,200", AnswerKind.Numeric));
        Assert.NotNull(Answers.Problem("27 200", AnswerKind.Numeric));
        Assert.NotNull(Answers.Problem("12 3", AnswerKind.DigitSequence));
        Assert.Null(Answers.Problem("anything", AnswerKind.Text));
    }
}
