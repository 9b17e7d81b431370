using CoLaR.Data;
using Xunit;

namespace CoLaR.Runtime.Tests.Data;

/// <summary>The iCoT text format: parsing, every malformed case with its file:line, writing.</summary>
public class TextFormatTests
{
    const string Good = "Mia has 3 apples. She buys 2 more apples. How many apples does Mia have now?||<<3+2=5>> #### 5";

    static IReadOnlyList<Sample> Parse(string text, DatasetReadOptions? options = null) =>
        IcotTextFormat.Parse(new StringReader(text), "bad.txt", options);

    static DataFormatException Fails(string text, DatasetReadOptions? options = null) =>
        Assert.Throws<DataFormatException>(() => Parse(text, options));

    [Theory]
    [InlineData("What is 2+2? <<2+2=4>> #### 4", "missing '||' between question and reasoning")]
    [InlineData("What is 2+2?||<<2+2=4>> 4", "missing '####' before the answer")]
    [InlineData("   ||<<2+2=4>> #### 4", "empty question")]
    [InlineData("What is 2+2?||<<2+2=4>> #### four", "answer 'four' is not a number (GSM8k-style answers must parse as a number after removing commas)")]
    [InlineData("What is 2+2?||<<2+2=4>> ####   ", "empty answer")]
    [InlineData("What is 2+2?||<<2+2=4>> #### 4 #### 5", "more than one '####'")]
    [InlineData("What is 2+2?||<<2+2=4 #### 4", "unterminated equation '<<2+2=4' (no '>>')")]
    [InlineData("What is 2+2?||so <<2+2=4>> #### 4", "text outside the <<…>> equations: 'so'")]
    [InlineData("What is 2+2?||<<2+2=4>> <<>> #### 4", "empty equation '<<>>'")]
    [InlineData("What is 2+2?||<<2+<<2=4>> #### 4", "'<<' inside the equation '<<2+<<2=4>>'")]
    [InlineData("What is 2+2?||1 2 +  + 3 4 #### 4", "empty step between ' + ' separators")]
    [InlineData("What is 2+2?||<<2+2=4>>||x #### 4", "more than one '||'")]
    public void Malformed_second_line_is_reported_with_file_and_line(string bad, string problem)
    {
        var e = Fails(Good + "\n" + bad + "\n" + Good);
        Assert.Equal("bad.txt", e.File);
        Assert.Equal(2, e.Line);
        Assert.Equal(problem, e.Problem);
        Assert.Equal($"bad.txt:2: {problem}", e.Message);
    }

    [Fact]
    public void Blank_lines_are_skipped_but_counted()
    {
        var samples = Parse("\n" + Good + "\n\n   \n" + Good + "\n");
        Assert.Equal([2, 5], samples.Select(s => s.Source!.Line));
        var e = Fails("\n\n" + Good + "\n\nno separators here\n");
        Assert.Equal(5, e.Line);
    }

    [Fact]
    public void Empty_reasoning_policy()
    {
        const string empty = "What is 2+2?|| #### 4";
        Assert.Empty(Parse(empty)[0].Steps);
        Assert.Single(Parse(Good + "\n" + empty, new DatasetReadOptions { EmptyReasoning = EmptyReasoning.Skip }));
        var e = Fails(Good + "\n" + empty, new DatasetReadOptions { EmptyReasoning = EmptyReasoning.Error });
        Assert.Equal("bad.txt:2: empty reasoning between '||' and '####'", e.Message);
    }

    [Fact]
    public void Empty_input_has_no_samples()
    {
        Assert.Equal("bad.txt:1: the file has no samples", Fails("").Message);
        Assert.Equal("bad.txt:3: the file has no samples", Fails("\n \n\n").Message);
    }

    [Fact]
    public void Answer_kind_is_inferred_from_the_first_line_and_enforced()
    {
        const string mult = "1 2 * 3 4||3 6 0 + 0 4 8 0 #### 3 0 9 0";
        Assert.Equal(AnswerKind.DigitSequence, Parse(mult)[0].AnswerKind);
        var e = Fails(mult + "\n" + "1 2 * 3 4||3 6 0 + 0 4 8 0 #### 3 0 9 x");
        Assert.Equal(2, e.Line);
        Assert.StartsWith("answer '3 0 9 x' is not a sequence of space-separated digits", e.Problem);

        // Commas and decimals are numbers; a fixed kind overrides inference.
        Assert.Equal("1,400", Parse("q||<<1+1=2>> #### 1,400")[0].Answer);
        Assert.Equal("-2.5", Parse("q||<<1+1=2>> #### -2.5")[0].Answer);
        var text = Parse("q||<<1+1=2>> #### \\frac{1}{2}", new DatasetReadOptions { AnswerKind = AnswerKind.Text })[0];
        Assert.Equal(AnswerKind.Text, text.AnswerKind);
    }

    [Fact]
    public void Errors_through_DatasetReader_name_the_real_path()
    {
        using var dir = new DataFiles.TempDirectory();
        var path = dir.File("train.txt");
        File.WriteAllText(path, Good + "\n" + Good + "\n" + "broken line\n");
        var e = Assert.Throws<DataFormatException>(() => DatasetReader.Read(path));
        Assert.Equal($"{path}:3: missing '||' between question and reasoning", e.Message);
    }

    [Fact]
    public void Unknown_extension_is_a_data_format_error_naming_the_formats()
    {
        using var dir = new DataFiles.TempDirectory();
        var path = dir.File("train.csv");
        File.WriteAllText(path, Good);
        var e = Assert.Throws<DataFormatException>(() => DatasetReader.Read(path));
        Assert.Contains("unknown data format '.csv'", e.Message);
        Assert.Contains(".txt", e.Message);
        Assert.Contains(".jsonl", e.Message);
        Assert.Throws<FileNotFoundException>(() => DatasetReader.Read(dir.File("missing.txt")));
    }

    [Fact]
    public void Split_steps_of_each_reasoning_style()
    {
        Assert.Equal(["<<1+2=3>>", "<<3*4=12>>"], IcotTextFormat.SplitSteps(" <<1+2=3>>   <<3*4=12>> "));
        Assert.Equal(["1 2", "3 4 ( 5 6 )", "7"], IcotTextFormat.SplitSteps("1 2 + 3 4 ( 5 6 ) + 7"));
        Assert.Throws<FormatException>(() => IcotTextFormat.SplitSteps("<<1+2=3"));
    }

    [Fact]
    public void Format_line_writes_equations_with_spaces_and_other_steps_with_plus()
    {
        Assert.Equal("q||<<1+2=3>> <<3*4=12>> #### 12", IcotTextFormat.FormatLine(new Sample("q", ["<<1+2=3>>", "<<3*4=12>>"], "12")));
        Assert.Equal("q||1 2 + 3 4 #### 5", IcotTextFormat.FormatLine(new Sample("q", ["1 2", "3 4"], "5")));
        Assert.Equal("q|| #### 5", IcotTextFormat.FormatLine(new Sample("q", [], "5")));
    }

    [Theory]
    [InlineData("a||b", "<<1+1=2>>", "2")]
    [InlineData("line\nbreak", "<<1+1=2>>", "2")]
    [InlineData("q", "x + y", "2")]
    [InlineData("q", "<<1+1=2>> and", "2")]
    [InlineData("q", "<<1+1=2>>", "2 #### 3")]
    public void Format_line_refuses_samples_that_would_not_read_back(string question, string step, string answer)
    {
        Assert.Throws<ArgumentException>(() => IcotTextFormat.FormatLine(new Sample(question, [step], answer)));
    }

    [Fact]
    public void Parse_line_on_its_own()
    {
        var sample = IcotTextFormat.ParseLine(Good)!;
        Assert.Equal(["<<3+2=5>>"], sample.Steps);
        Assert.Equal(new SourceRef("(line)", 1), sample.Source);
        var e = Assert.Throws<DataFormatException>(() => IcotTextFormat.ParseLine("nothing", fileName: "f.txt", lineNumber: 7));
        Assert.Equal("f.txt:7: missing '||' between question and reasoning", e.Message);
    }
}
