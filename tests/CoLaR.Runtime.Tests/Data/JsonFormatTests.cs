using System.Text;
using CoLaR.Data;
using Xunit;

namespace CoLaR.Runtime.Tests.Data;

/// <summary>The reference implementation's JSON / JSONL layout, with line numbers in every error.</summary>
public class JsonFormatTests
{
    // Line numbers:          1    2    3                                   4                                  5    6    7
    const string Array = "[\n  {\n    \"question\": \"What is 2+2?\",\n    \"steps\": [\"<<2+2=4>>\"],\n    \"answer\": \"4\"\n  },\n  {\n" +
                         // 8                                      9                                                10                11   12
                         "    \"question\": \"Then times 3?\",\n    \"steps\": [\"<<2+2=4>>\", \"<<4*3=12>>\"], \"extra\": {\"a\": [1]},\n    \"answer\": 12\n  }\n]\n";

    static IReadOnlyList<Sample> ParseArray(string json, DatasetReadOptions? options = null) =>
        JsonDatasetFormat.ParseArray(Encoding.UTF8.GetBytes(json), "bad.json", options);

    static IReadOnlyList<Sample> ParseLines(string json, DatasetReadOptions? options = null) =>
        JsonDatasetFormat.ParseLines(Encoding.UTF8.GetBytes(json), "bad.jsonl", options);

    [Fact]
    public void Array_of_objects_with_source_lines_and_numeric_answer()
    {
        var samples = ParseArray(Array);
        Assert.Equal(2, samples.Count);
        Assert.Equal("What is 2+2?", samples[0].Question);
        Assert.Equal(["<<2+2=4>>"], samples[0].Steps);
        Assert.Equal(new SourceRef("bad.json", 2), samples[0].Source);
        Assert.Equal(["<<2+2=4>>", "<<4*3=12>>"], samples[1].Steps);
        Assert.Equal("12", samples[1].Answer);
        Assert.Equal(new SourceRef("bad.json", 7), samples[1].Source);
        Assert.All(samples, s => Assert.Equal(AnswerKind.Numeric, s.AnswerKind));
    }

    [Theory]
    [InlineData("\"answer\": \"4\"", "\"answer\": \"four\"", 5, "answer 'four' is not a number (GSM8k-style answers must parse as a number after removing commas)")]
    [InlineData("\"question\": \"What is 2+2?\"", "\"question\": 7", 3, "field 'question' must be a string, found a number (object starting at line 2)")]
    [InlineData("\"steps\": [\"<<2+2=4>>\"]", "\"steps\": \"<<2+2=4>>\"", 4, "field 'steps' must be an array of strings, found a string (object starting at line 2)")]
    [InlineData("\"steps\": [\"<<2+2=4>>\"]", "\"steps\": [\"<<2+2=4>>\", null]", 4, "field 'steps[1]' must be a string, found null (object starting at line 2)")]
    [InlineData("\"steps\": [\"<<2+2=4>>\"]", "\"steps\": [\" \"]", 4, "steps[0] is empty (object starting at line 2)")]
    [InlineData("\"answer\": \"4\"", "\"answer\": true", 5, "field 'answer' must be a string or a number, found a boolean (object starting at line 2)")]
    [InlineData("\"steps\": [\"<<2+2=4>>\"],", "", 2, "the object has no 'steps' field")]
    [InlineData(",\n    \"answer\": \"4\"", "", 2, "the object has no 'answer' field")]
    [InlineData("\"question\": \"What is 2+2?\"", "\"question\": \"  \"", 2, "empty question")]
    [InlineData("\"answer\": \"4\"", "\"answer\": \"4\", \"answer\": \"5\"", 5, "duplicate field 'answer' (object starting at line 2)")]
    public void Malformed_object_reports_the_offending_line(string original, string replacement, int line, string problem)
    {
        var json = ReplaceFirst(Array, original, replacement);
        var e = Assert.Throws<DataFormatException>(() => ParseArray(json));
        Assert.Equal(line, e.Line);
        Assert.Equal(problem, e.Problem);
        Assert.Equal($"bad.json:{line}: {problem}", e.Message);
    }

    [Theory]
    [InlineData("\"answer\": \"4\"\n  },", "\"answer\": \"4\"\n  }", 7)]  // missing comma between objects
    [InlineData("\"answer\": 12\n  }\n]", "\"answer\": 12\n  }\n", 13)] // array never closed: the end of the file
    [InlineData("\"question\": \"Then", "\"question: \"Then", 8)]        // broken string
    [InlineData("]\n", "]\n]\n", 13)]                                      // trailing content
    public void Invalid_json_reports_its_line(string original, string replacement, int line)
    {
        var e = Assert.Throws<DataFormatException>(() => ParseArray(ReplaceFirst(Array, original, replacement)));
        Assert.Equal(line, e.Line);
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith($"bad.json:{line}: ", e.Message);
    }

    [Fact]
    public void Top_level_must_be_an_array()
    {
        var e = Assert.Throws<DataFormatException>(() => ParseArray("\n{\"question\": \"q\", \"steps\": [], \"answer\": \"1\"}"));
        Assert.Equal(2, e.Line);
        Assert.Contains("expected a JSON array", e.Problem);
        Assert.Contains(".jsonl", e.Problem);
        Assert.Equal("bad.json:1: empty file: expected a JSON array of {\"question\", \"steps\", \"answer\"} objects", Assert.Throws<DataFormatException>(() => ParseArray("  ")).Message);
        Assert.Equal("bad.json:1: the file has no samples", Assert.Throws<DataFormatException>(() => ParseArray("[]")).Message);
        Assert.Equal("bad.json:2: array element 1 must be an object with \"question\", \"steps\" and \"answer\", found a number",
            Assert.Throws<DataFormatException>(() => ParseArray("[\n 3 ]")).Message);
    }

    [Fact]
    public void Json_lines_one_object_per_line()
    {
        const string lines = "{\"question\": \"q1\", \"steps\": [\"<<1+1=2>>\"], \"answer\": \"2\"}\r\n\n" +
                             "{\"question\": \"q2\", \"steps\": [], \"answer\": 3.50}\n";
        var samples = ParseLines(lines);
        Assert.Equal([1, 3], samples.Select(s => s.Source!.Line));
        Assert.Equal("3.50", samples[1].Answer);
        Assert.Empty(samples[1].Steps);

        var e = Assert.Throws<DataFormatException>(() => ParseLines(lines + "{\"question\": \"q3\", \"steps\": [\"x\"]}\n"));
        Assert.Equal("bad.jsonl:4: the object has no 'answer' field", e.Message);
        e = Assert.Throws<DataFormatException>(() => ParseLines(lines + "{\"question\": \"q3\", \"steps\": [\"x\"], \"answer\": \"1\"} {}\n"));
        Assert.Equal(4, e.Line);
        e = Assert.Throws<DataFormatException>(() => ParseLines(lines + "[1, 2]\n"));
        Assert.Equal("bad.jsonl:4: each line must be one JSON object with \"question\", \"steps\" and \"answer\", found an array", e.Message);
        e = Assert.Throws<DataFormatException>(() => ParseLines(lines + "{\"question\": \"q3\",\n"));
        Assert.Equal(4, e.Line);
        Assert.StartsWith("invalid JSON", e.Problem);
        e = Assert.Throws<DataFormatException>(() => ParseLines(lines, new DatasetReadOptions { EmptyReasoning = EmptyReasoning.Error }));
        Assert.Equal("bad.jsonl:3: empty reasoning: 'steps' has no elements", e.Message);
    }

    [Fact]
    public void Files_by_extension_with_byte_order_mark()
    {
        using var dir = new DataFiles.TempDirectory();
        var json = dir.File("data.json");
        File.WriteAllText(json, Array, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(2, DatasetReader.Read(json).Count);
        var jsonl = dir.File("data.JSONL");
        File.WriteAllText(jsonl, "{\"question\": \"q\", \"steps\": [\"1 2\", \"3 4\"], \"answer\": \"5 6\"}\n", new UTF8Encoding(true));
        var sample = Assert.Single(DatasetReader.Read(jsonl));
        Assert.Equal(AnswerKind.DigitSequence, sample.AnswerKind);
        Assert.Equal(new SourceRef(jsonl, 1), sample.Source);
    }

    static string ReplaceFirst(string text, string original, string replacement)
    {
        int at = text.IndexOf(original, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{original}' not in the fixture");
        return text[..at] + replacement + text[(at + original.Length)..];
    }
}
