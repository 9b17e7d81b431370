using CoLaR.Evaluation;
using CoLaR.Inference;
using Xunit;

namespace CoLaR.Runtime.Tests.Evaluation;

public class AnswerMatcherTests
{
    [Theory]
    [InlineData("18", "18")]
    [InlineData("18.0", "18")]
    [InlineData("18", "18.000")]
    [InlineData(" 18 ", "18")]
    [InlineData("18.", "18")]          // trailing sentence period
    [InlineData("1,400", "1400")]
    [InlineData("1400", "1,400")]
    [InlineData("1,400.50", "1400.5")]
    [InlineData("$5", "5")]
    [InlineData("$5.00", "5")]
    [InlineData("-$5", "-5")]
    [InlineData("$-5", "-5")]
    [InlineData("+7", "7")]
    [InlineData("−3", "-3")]           // U+2212 minus sign
    [InlineData("-0", "0")]
    [InlineData("0.50", ".5")]
    [InlineData("007", "7")]
    [InlineData("€12", "12")]
    [InlineData("123456789012345678901234567890123", "123456789012345678901234567890123.0")] // beyond decimal range: exact string compare
    public void Numbers_with_the_same_value_match(string predicted, string gold) =>
        Assert.True(AnswerMatcher.IsCorrect(predicted, gold));

    [Theory]
    [InlineData("17", "18")]
    [InlineData("-18", "18")]
    [InlineData("18", "-18")]
    [InlineData("18.01", "18")]
    [InlineData("1.8", "18")]
    [InlineData("3,5", "3.5")]         // commas are thousands separators, never decimal commas
    [InlineData("18 apples", "18")]
    [InlineData("18%", "18")]
    [InlineData("1e1", "10")]          // no exponent notation
    [InlineData("1 8", "18")]          // a number gold needs a number prediction
    [InlineData("--5", "-5")]
    [InlineData("$$5", "5")]
    [InlineData("5$", "5")]
    [InlineData("1.2.3", "1.2")]
    [InlineData("18..", "18")]         // only one trailing period is forgiven
    [InlineData("", "18")]
    [InlineData("   ", "18")]
    [InlineData(".", "0")]
    [InlineData("$", "0")]
    [InlineData("-", "0")]
    [InlineData("NaN", "18")]
    [InlineData("Infinity", "18")]
    [InlineData("eighteen", "18")]
    [InlineData("123456789012345678901234567890124", "123456789012345678901234567890123")]
    public void Different_or_malformed_numbers_do_not_match(string predicted, string gold) =>
        Assert.False(AnswerMatcher.IsCorrect(predicted, gold));

    [Theory]
    [InlineData("5 5 6 0 8 2 0 1", "5 5 6 0 8 2 0 1", true)]
    [InlineData("55608201", "5 5 6 0 8 2 0 1", true)]
    [InlineData("5 5 6 0 8 2 0 1.", "5 5 6 0 8 2 0 1", true)]
    [InlineData(" 5  5 6\t0 8 2 0 1 ", "5 5 6 0 8 2 0 1", true)]
    [InlineData("5 5 6 0 8 2 0 2", "5 5 6 0 8 2 0 1", false)]
    [InlineData("5 5 6 0 8 2 0", "5 5 6 0 8 2 0 1", false)]
    [InlineData("0 2 1", "2 1", false)]      // leading zeros count in digit strings
    [InlineData("2 1", "0 2 1", false)]
    [InlineData("0 2 1", "0 2 1", true)]
    public void Digit_sequences_compare_without_white_space(string predicted, string gold, bool expected) =>
        Assert.Equal(expected, AnswerMatcher.IsCorrect(predicted, gold));

    [Theory]
    [InlineData("True", "True", true)]
    [InlineData("True", "true", false)]        // text is case-sensitive
    [InlineData("New York", "NewYork", true)]  // white space is ignored in text answers
    [InlineData("3/4", "3/4", true)]
    [InlineData("0.75", "3/4", false)]         // fractions are text, not evaluated
    public void Text_answers_compare_ordinally(string predicted, string gold, bool expected) =>
        Assert.Equal(expected, AnswerMatcher.IsCorrect(predicted, gold));

    [Fact]
    public void Null_prediction_is_wrong_and_blank_gold_throws()
    {
        Assert.False(AnswerMatcher.IsCorrect((string?)null, "5"));
        Assert.Throws<ArgumentException>(() => AnswerMatcher.IsCorrect("5", " "));
        Assert.Throws<ArgumentException>(() => AnswerMatcher.IsCorrect("5", ","));
    }

    [Fact]
    public void Generated_answer_is_matched_on_the_text_after_Answer()
    {
        var right = new GeneratedAnswer("Answer:1,400", Steps: 4, ReasoningText: null, StoppedByModel: true);
        var wrong = new GeneratedAnswer("Answer: 14", Steps: 4, ReasoningText: null, StoppedByModel: true);
        Assert.True(AnswerMatcher.IsCorrect(right, "1400"));
        Assert.False(AnswerMatcher.IsCorrect(wrong, "1400"));
    }

    [Theory]
    [InlineData("$1,400.50", "1400.5")]
    [InlineData("-0.0", "0")]
    [InlineData("-.5", "-0.5")]
    [InlineData("000", "0")]
    [InlineData("12.", "12")]
    public void Canonical_numbers(string text, string expected)
    {
        Assert.True(AnswerMatcher.TryCanonicalNumber(text, out var canonical));
        Assert.Equal(expected, canonical);
    }

    [Theory]
    [InlineData("5 5 6", true)]
    [InlineData("12 34", true)]
    [InlineData("556", false)]
    [InlineData("5 a 6", false)]
    [InlineData("-5 6", false)]
    public void Digit_sequence_detection(string text, bool expected) =>
        Assert.Equal(expected, AnswerMatcher.IsDigitSequence(text));
}
