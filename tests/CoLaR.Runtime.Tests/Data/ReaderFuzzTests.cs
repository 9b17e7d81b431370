using System.Text;
using CoLaR.Data;
using Xunit;
using Xunit.Abstractions;

namespace CoLaR.Runtime.Tests.Data;

/// <summary>Mutated inputs: a reader either returns samples or throws DataFormatException, never anything else.</summary>
public class ReaderFuzzTests(ITestOutputHelper output)
{
    const string Alphabet = "|#<>{}[]\",:\n\r\t 0123456789+-*/=().abcQ\\\u0000\u00e9\u2019";

    [Theory]
    [InlineData("txt")]
    [InlineData("json")]
    [InlineData("jsonl")]
    public void Mutated_inputs_throw_only_data_format_exceptions(string format)
    {
        var seed = Encoding.UTF8.GetBytes(Serialize(SyntheticData.WordProblems(3, null, 1), format));
        var random = new Random(1234);
        int parsed = 0, rejected = 0;
        for (int i = 0; i < 1000; i++)
        {
            var mutated = Mutate(seed, random, mutations: 1 + i % 4);
            try
            {
                var result = Read(mutated, format);
                Assert.NotEmpty(result);
                Assert.All(result, s => Assert.NotNull(s.Source));
                parsed++;
            }
            catch (DataFormatException e)
            {
                Assert.Equal("fuzz." + format, e.File);
                Assert.InRange(e.Line, 1, mutated.Count(b => b == (byte)'\n') + 1);
                Assert.DoesNotContain('\n', e.Message);
                Assert.DoesNotContain("internal error", e.Message); // the safety net must not be what caught it
                rejected++;
            }
        }
        output.WriteLine($"{format}: 1000 mutated files, {parsed} parsed, {rejected} rejected with a DataFormatException");
        // Both outcomes occur, so the mutations neither always break nor never break the input.
        Assert.True(parsed > 0 && rejected > 0, $"parsed {parsed}, rejected {rejected}");
    }

    [Fact]
    public void Invalid_utf8_is_reported_on_its_line()
    {
        var good = Encoding.UTF8.GetBytes("q||<<1+1=2>> #### 2\n");
        byte[] text = [.. good, .. good, (byte)'q', 0xFF, .. "||<<1+1=2>> #### 2\n"u8];
        Assert.Equal("fuzz.txt:3: the line is not valid UTF-8 text", Assert.Throws<DataFormatException>(() => Read(text, "txt")).Message);
        byte[] json = [.. "[{\"question\": \"q"u8, 0xC3, .. "\", \"steps\": [], \"answer\": \"1\"}]"u8];
        Assert.StartsWith("fuzz.json:1: a string is not valid UTF-8", Assert.Throws<DataFormatException>(() => Read(json, "json")).Message);
    }

    static IReadOnlyList<Sample> Read(byte[] utf8, string format) => format switch
    {
        "txt" => IcotTextFormat.Parse(utf8, "fuzz.txt"),
        "json" => JsonDatasetFormat.ParseArray(utf8, "fuzz.json"),
        _ => JsonDatasetFormat.ParseLines(utf8, "fuzz.jsonl"),
    };

    static string Serialize(IEnumerable<Sample> samples, string format)
    {
        if (format == "txt") return string.Concat(samples.Select(s => IcotTextFormat.FormatLine(s) + "\n"));
        using var stream = new MemoryStream();
        if (format == "json") JsonDatasetFormat.WriteArray(stream, samples);
        else JsonDatasetFormat.WriteLines(stream, samples);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    static byte[] Mutate(byte[] input, Random random, int mutations)
    {
        var bytes = new List<byte>(input);
        for (int m = 0; m < mutations; m++)
        {
            int at = random.Next(bytes.Count + 1), last = Math.Min(at, bytes.Count - 1);
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0: // delete a short range
                    bytes.RemoveRange(last, Math.Min(random.Next(1, 6), bytes.Count - last));
                    break;
                case 1: // insert interesting characters
                    for (int k = random.Next(1, 4); k > 0; k--) bytes.InsertRange(at, Encoding.UTF8.GetBytes(Alphabet[random.Next(Alphabet.Length)].ToString()));
                    break;
                case 2 when bytes.Count > 0: // replace one character
                    bytes[last] = (byte)Alphabet[random.Next(Alphabet.Length) % 40];
                    break;
                case 3 when bytes.Count > 0: // any byte, including invalid UTF-8
                    bytes[last] = (byte)random.Next(256);
                    break;
                default: // duplicate a short range
                    int from = random.Next(bytes.Count), count = Math.Min(random.Next(1, 12), bytes.Count - from);
                    bytes.InsertRange(at, bytes.GetRange(from, count));
                    break;
            }
        }
        return bytes.ToArray();
    }
}
