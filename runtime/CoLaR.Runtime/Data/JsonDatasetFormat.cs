using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CoLaR.Data;

/// <summary>
/// The JSON layout of the reference implementation (and Coconut): an array of
/// <c>{"question": "…", "steps": ["…", …], "answer": "…"}</c> objects (<c>.json</c>), or one such object per line
/// (<c>.jsonl</c>). An answer given as a JSON number is accepted and kept as written. Other fields are ignored.
/// Errors name the line of the offending value; a missing field names the line where its object starts.
/// </summary>
public static class JsonDatasetFormat
{
    static readonly JsonReaderOptions s_readerOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    /// <summary>Reads a file holding a JSON array of samples.</summary>
    public static IReadOnlyList<Sample> ReadArray(string path, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ParseArray(DatasetReader.ReadBytes(path), path, options);
    }

    /// <summary>Reads a JSON Lines file: one sample object per line, blank lines skipped.</summary>
    public static IReadOnlyList<Sample> ReadLines(string path, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ParseLines(DatasetReader.ReadBytes(path), path, options);
    }

    /// <summary>Parses UTF-8 JSON holding an array of sample objects.</summary>
    public static IReadOnlyList<Sample> ParseArray(ReadOnlySpan<byte> utf8, string fileName, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        options ??= DatasetReadOptions.Default;
        utf8 = SkipBom(utf8);
        var lines = new LineIndex(utf8);
        AnswerKind? kind = options.AnswerKind;
        var samples = new List<Sample>();
        var reader = new Utf8JsonReader(utf8, s_readerOptions);
        int line = 1;
        try
        {
            if (IsBlank(utf8) || !reader.Read()) throw DatasetReader.Error(fileName, 1, "empty file: expected a JSON array of {\"question\", \"steps\", \"answer\"} objects");
            line = lines.LineOf(reader.TokenStartIndex);
            if (reader.TokenType != JsonTokenType.StartArray)
                throw DatasetReader.Error(fileName, line, $"expected a JSON array of {{\"question\", \"steps\", \"answer\"}} objects, found {Describe(reader.TokenType)}"
                    + (reader.TokenType == JsonTokenType.StartObject ? " (for one object per line, name the file .jsonl)" : ""));
            while (true)
            {
                if (!reader.Read()) throw DatasetReader.Error(fileName, lines.LastLine, "unexpected end of file: the array is not closed with ']'");
                line = lines.LineOf(reader.TokenStartIndex);
                if (reader.TokenType == JsonTokenType.EndArray) break;
                if (reader.TokenType != JsonTokenType.StartObject)
                    throw DatasetReader.Error(fileName, line, $"array element {samples.Count + 1} must be an object with \"question\", \"steps\" and \"answer\", found {Describe(reader.TokenType)}");
                if (ReadObject(ref reader, lines, fileName, ref kind, options.EmptyReasoning, ref line) is { } sample) samples.Add(sample);
            }
            // Anything after the closing bracket other than whitespace makes the reader throw.
            if (reader.Read()) throw DatasetReader.Error(fileName, lines.LineOf(reader.TokenStartIndex), "unexpected content after the JSON array");
        }
        catch (JsonException e)
        {
            throw DatasetReader.Error(fileName, (int)(e.LineNumber ?? line - 1) + 1, $"invalid JSON: {Message(e)}");
        }
        catch (Exception e) when (!DatasetReader.IsExpected(e))
        {
            throw DatasetReader.Error(fileName, line, $"internal error while reading ({e.GetType().Name}: {e.Message}); please report it");
        }
        if (samples.Count == 0) throw DatasetReader.Error(fileName, 1, "the file has no samples");
        return samples;
    }

    /// <summary>Parses UTF-8 JSON Lines: one sample object per line.</summary>
    public static IReadOnlyList<Sample> ParseLines(ReadOnlySpan<byte> utf8, string fileName, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        options ??= DatasetReadOptions.Default;
        utf8 = SkipBom(utf8);
        AnswerKind? kind = options.AnswerKind;
        var samples = new List<Sample>();
        int lineNumber = 0;
        while (utf8.Length > 0 || lineNumber == 0)
        {
            lineNumber++;
            int end = utf8.IndexOf((byte)'\n');
            var lineBytes = end < 0 ? utf8 : utf8[..end];
            utf8 = end < 0 ? [] : utf8[(end + 1)..];
            if (IsBlank(lineBytes)) continue;
            var lines = LineIndex.Single(lineNumber);
            int line = lineNumber;
            try
            {
                var reader = new Utf8JsonReader(lineBytes, s_readerOptions);
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                    throw DatasetReader.Error(fileName, lineNumber, $"each line must be one JSON object with \"question\", \"steps\" and \"answer\", found {Describe(reader.TokenType)}");
                var sample = ReadObject(ref reader, lines, fileName, ref kind, options.EmptyReasoning, ref line);
                if (reader.Read()) throw DatasetReader.Error(fileName, lineNumber, "more than one JSON value on the line");
                if (sample is not null) samples.Add(sample);
            }
            catch (JsonException e)
            {
                throw DatasetReader.Error(fileName, lineNumber, $"invalid JSON: {Message(e)}");
            }
            catch (Exception e) when (!DatasetReader.IsExpected(e))
            {
                throw DatasetReader.Error(fileName, lineNumber, $"internal error while reading ({e.GetType().Name}: {e.Message}); please report it");
            }
        }
        if (samples.Count == 0) throw DatasetReader.Error(fileName, Math.Max(lineNumber, 1), "the file has no samples");
        return samples;
    }

    /// <summary>Writes samples as a JSON array (indented, one object per element).</summary>
    public static void WriteArray(Stream stream, IEnumerable<Sample> samples)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartArray();
        foreach (var sample in samples) WriteObject(writer, sample);
        writer.WriteEndArray();
    }

    /// <summary>Writes samples as JSON Lines.</summary>
    public static void WriteLines(Stream stream, IEnumerable<Sample> samples)
    {
        foreach (var sample in samples)
        {
            using (var writer = new Utf8JsonWriter(stream)) WriteObject(writer, sample);
            stream.WriteByte((byte)'\n');
        }
    }

    static void WriteObject(Utf8JsonWriter writer, Sample sample)
    {
        writer.WriteStartObject();
        writer.WriteString("question", sample.Question);
        writer.WriteStartArray("steps");
        foreach (var step in sample.Steps) writer.WriteStringValue(step);
        writer.WriteEndArray();
        writer.WriteString("answer", sample.Answer);
        writer.WriteEndObject();
    }

    /// <summary>Reads one object; the reader is on its StartObject and is left on its EndObject.</summary>
    static Sample? ReadObject(ref Utf8JsonReader reader, LineIndex lines, string file, ref AnswerKind? kind, EmptyReasoning emptyReasoning, ref int line)
    {
        int objectLine = lines.LineOf(reader.TokenStartIndex);
        string? question = null, answer = null;
        int answerLine = objectLine, stepsLine = objectLine;
        List<string>? steps = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);

        while (reader.Read())
        {
            line = lines.LineOf(reader.TokenStartIndex);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            // The reader guarantees a property name here; its value follows.
            string name = ReadString(ref reader, file, line);
            reader.Read();
            line = lines.LineOf(reader.TokenStartIndex);
            if (name is "question" or "steps" or "answer" && !seen.Add(name))
                throw DatasetReader.Error(file, line, $"duplicate field '{name}' (object starting at line {objectLine})");
            switch (name)
            {
                case "question":
                    if (reader.TokenType != JsonTokenType.String) throw Mistyped(file, line, "question", "a string", reader.TokenType, objectLine);
                    question = ReadString(ref reader, file, line).Trim();
                    break;
                case "answer":
                    answerLine = line;
                    if (reader.TokenType == JsonTokenType.String) answer = ReadString(ref reader, file, line).Trim();
                    else if (reader.TokenType == JsonTokenType.Number) answer = NumberText(ref reader);
                    else throw Mistyped(file, line, "answer", "a string or a number", reader.TokenType, objectLine);
                    break;
                case "steps":
                    stepsLine = line;
                    if (reader.TokenType != JsonTokenType.StartArray) throw Mistyped(file, line, "steps", "an array of strings", reader.TokenType, objectLine);
                    steps = [];
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        line = lines.LineOf(reader.TokenStartIndex);
                        if (reader.TokenType != JsonTokenType.String)
                            throw Mistyped(file, line, $"steps[{steps.Count}]", "a string", reader.TokenType, objectLine);
                        var step = ReadString(ref reader, file, line).Trim();
                        if (step.Length == 0) throw DatasetReader.Error(file, line, $"steps[{steps.Count}] is empty (object starting at line {objectLine})");
                        steps.Add(step);
                    }
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        foreach (var (field, value) in new[] { ("question", (object?)question), ("steps", steps), ("answer", answer) })
            if (value is null) throw DatasetReader.Error(file, objectLine, $"the object has no '{field}' field");
        if (question!.Length == 0) throw DatasetReader.Error(file, objectLine, "empty question");
        if (DatasetReader.CheckAnswer(answer!, ref kind) is { } problem) throw DatasetReader.Error(file, answerLine, problem);
        if (steps!.Count == 0)
        {
            if (emptyReasoning == EmptyReasoning.Error) throw DatasetReader.Error(file, stepsLine, "empty reasoning: 'steps' has no elements");
            if (emptyReasoning == EmptyReasoning.Skip) return null;
        }
        return new Sample(question, steps, answer!) { Source = new SourceRef(file, objectLine), AnswerKind = kind!.Value };
    }

    /// <summary>The current string or property name; the reader checks UTF-8 inside strings only when they are read.</summary>
    static string ReadString(ref Utf8JsonReader reader, string file, int line)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw DatasetReader.Error(file, line, "a string is not valid UTF-8 (or has an invalid escape)");
        }
    }

    /// <summary>A JSON number as answer text: as written, unless written with an exponent (then in plain decimal).</summary>
    static string NumberText(ref Utf8JsonReader reader)
    {
        var raw = Encoding.UTF8.GetString(reader.ValueSpan);
        if (raw.AsSpan().IndexOfAny('e', 'E') >= 0 && reader.TryGetDecimal(out var value)) return value.ToString(CultureInfo.InvariantCulture);
        return raw;
    }

    static DataFormatException Mistyped(string file, int line, string field, string expected, JsonTokenType found, int objectLine) =>
        DatasetReader.Error(file, line, $"field '{field}' must be {expected}, found {Describe(found)} (object starting at line {objectLine})");

    static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.None => "nothing",
        _ => type.ToString(),
    };

    // JsonException messages end with "LineNumber: 2 | BytePositionInLine: 7."; the line is already in front.
    static string Message(JsonException e)
    {
        var message = e.Message;
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at > 0 ? message[..at] : message).Trim();
    }

    static ReadOnlySpan<byte> SkipBom(ReadOnlySpan<byte> utf8) => utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? utf8[3..] : utf8;

    static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line) if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
        return true;
    }

    /// <summary>Maps byte offsets to 1-based line numbers.</summary>
    sealed class LineIndex
    {
        readonly int[] _newlines;
        readonly int _fixedLine;

        public LineIndex(ReadOnlySpan<byte> utf8)
        {
            var newlines = new List<int>();
            for (int i = utf8.IndexOf((byte)'\n'); i >= 0; i = NextNewline(utf8, i)) newlines.Add(i);
            _newlines = newlines.ToArray();
            LastLine = _newlines.Length + 1;
        }

        LineIndex(int line)
        {
            _newlines = [];
            _fixedLine = line;
            LastLine = line;
        }

        public static LineIndex Single(int line) => new(line);

        public int LastLine { get; }

        public int LineOf(long offset)
        {
            if (_fixedLine > 0) return _fixedLine;
            int index = Array.BinarySearch(_newlines, (int)Math.Min(offset, int.MaxValue));
            return (index >= 0 ? index : ~index) + 1;
        }

        static int NextNewline(ReadOnlySpan<byte> utf8, int previous)
        {
            int next = utf8[(previous + 1)..].IndexOf((byte)'\n');
            return next < 0 ? -1 : previous + 1 + next;
        }
    }
}
