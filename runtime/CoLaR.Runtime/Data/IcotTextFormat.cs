using System.Text;

namespace CoLaR.Data;

/// <summary>
/// The text format of the iCoT papers, used by GSM8k-Aug and the multiplication sets: one sample per line,
/// <c>question||reasoning #### answer</c>. Reasoning steps are the <c>&lt;&lt;…&gt;&gt;</c> equations when there are
/// any (GSM8k-Aug: <c>&lt;&lt;4-2=2&gt;&gt; &lt;&lt;2/.5=4&gt;&gt;</c>), else the parts between <c> + </c> (multiplication:
/// <c>5 5 5 6 1 + 0 0 6 4 9 0 ( 5 5 1 1 1 1 ) + …</c>). Blank lines are skipped.
/// </summary>
public static class IcotTextFormat
{
    /// <summary>Separates the question from the reasoning.</summary>
    public const string QuestionSeparator = "||";

    /// <summary>Separates the reasoning from the answer.</summary>
    public const string AnswerSeparator = "####";

    /// <summary>Separates multiplication steps.</summary>
    public const string PlusSeparator = " + ";

    /// <summary>Reads a file in this format (UTF-8; a byte-order mark is skipped; invalid UTF-8 is an error on its line).</summary>
    public static IReadOnlyList<Sample> Read(string path, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(DatasetReader.ReadBytes(path), path, options);
    }

    /// <summary>Parses UTF-8 bytes in this format, as <see cref="Read"/> does for a file.</summary>
    public static IReadOnlyList<Sample> Parse(byte[] utf8, string fileName, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        ArgumentNullException.ThrowIfNull(fileName);
        return ParseCore(Utf8Lines(utf8, fileName), fileName, options);
    }

    /// <summary>Parses text in this format; <paramref name="fileName"/> is used in error messages and <see cref="Sample.Source"/>.</summary>
    public static IReadOnlyList<Sample> Parse(TextReader reader, string fileName, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(fileName);
        return ParseCore(ReaderLines(reader), fileName, options);
    }

    static IReadOnlyList<Sample> ParseCore(IEnumerable<string> lines, string fileName, DatasetReadOptions? options)
    {
        options ??= DatasetReadOptions.Default;
        AnswerKind? kind = options.AnswerKind;
        var samples = new List<Sample>();
        int lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (ParseLineCore(line, fileName, lineNumber, ref kind, options.EmptyReasoning) is { } sample) samples.Add(sample);
            }
            catch (Exception e) when (!DatasetReader.IsExpected(e))
            {
                throw DatasetReader.Error(fileName, lineNumber, $"internal error while reading ({e.GetType().Name}: {e.Message}); please report it");
            }
        }
        if (samples.Count == 0) throw DatasetReader.Error(fileName, Math.Max(lineNumber, 1), "the file has no samples");
        return samples;
    }

    static IEnumerable<string> ReaderLines(TextReader reader)
    {
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine()) yield return line;
    }

    /// <summary>The lines of UTF-8 bytes ('\n' or "\r\n" ends a line), each decoded strictly so a bad byte is reported on its own line.</summary>
    static IEnumerable<string> Utf8Lines(byte[] bytes, string fileName)
    {
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        int start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        int lineNumber = 0;
        while (start < bytes.Length)
        {
            lineNumber++;
            int newline = Array.IndexOf(bytes, (byte)'\n', start);
            int end = newline < 0 ? bytes.Length : newline;
            int length = end - start;
            if (length > 0 && bytes[end - 1] == (byte)'\r') length--;
            string line;
            try
            {
                line = strict.GetString(bytes, start, length);
            }
            catch (DecoderFallbackException)
            {
                throw DatasetReader.Error(fileName, lineNumber, "the line is not valid UTF-8 text");
            }
            yield return line;
            start = end + 1;
        }
    }

    /// <summary>
    /// Parses one line (the answer kind is inferred from it unless <paramref name="options"/> fix it). Returns null when
    /// the reasoning is empty and the options say Skip.
    /// </summary>
    /// <exception cref="DataFormatException">The line is malformed; the message names <paramref name="fileName"/>:<paramref name="lineNumber"/>.</exception>
    public static Sample? ParseLine(string line, DatasetReadOptions? options = null, string fileName = "(line)", int lineNumber = 1)
    {
        ArgumentNullException.ThrowIfNull(line);
        options ??= DatasetReadOptions.Default;
        AnswerKind? kind = options.AnswerKind;
        return ParseLineCore(line, fileName, lineNumber, ref kind, options.EmptyReasoning);
    }

    /// <summary><paramref name="kind"/> is the file's answer kind; when null it is inferred from this line and set.</summary>
    static Sample? ParseLineCore(string line, string fileName, int lineNumber, ref AnswerKind? kind, EmptyReasoning emptyReasoning)
    {
        var problem = TrySplit(line, out var question, out var reasoning, out var answer);
        if (problem is null && question.Length == 0) problem = "empty question";
        if (problem is null) problem = DatasetReader.CheckAnswer(answer, ref kind);
        if (problem is not null) throw DatasetReader.Error(fileName, lineNumber, problem);

        IReadOnlyList<string> steps = [];
        if (reasoning.Length == 0)
        {
            if (emptyReasoning == EmptyReasoning.Error) throw DatasetReader.Error(fileName, lineNumber, "empty reasoning between '||' and '####'");
            if (emptyReasoning == EmptyReasoning.Skip) return null;
        }
        else
        {
            problem = TrySplitSteps(reasoning, out steps);
            if (problem is not null) throw DatasetReader.Error(fileName, lineNumber, problem);
        }
        return new Sample(question, steps, answer) { Source = new SourceRef(fileName, lineNumber), AnswerKind = kind!.Value };
    }

    /// <summary>The steps of a reasoning string: its &lt;&lt;…&gt;&gt; equations if it has any, else its " + " parts.</summary>
    /// <exception cref="FormatException">Text outside the equations, an unterminated equation, or an empty part.</exception>
    public static IReadOnlyList<string> SplitSteps(string reasoning)
    {
        ArgumentNullException.ThrowIfNull(reasoning);
        var problem = TrySplitSteps(reasoning.Trim(), out var steps);
        return problem is null ? steps : throw new FormatException(problem);
    }

    /// <summary>The line of a sample: <c>question||steps #### answer</c>, equations joined by spaces, other steps by " + ".</summary>
    /// <exception cref="ArgumentException">The sample cannot be written so that reading the line gives it back.</exception>
    public static string FormatLine(Sample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var steps = sample.Steps.Select(s => s.Trim()).ToList();
        bool equations = steps.Count > 0 && steps.All(IsEquation);
        var line = $"{sample.Question.Trim()}{QuestionSeparator}{string.Join(equations ? " " : PlusSeparator, steps)} {AnswerSeparator} {sample.Answer.Trim()}";

        // Round-trip check: separators or line breaks inside a field would make the line read back differently.
        var problem = TrySplit(line, out var question, out var reasoning, out var answer);
        IReadOnlyList<string> parsed = [];
        if (problem is null && reasoning.Length > 0) problem = TrySplitSteps(reasoning, out parsed);
        if (problem is not null || line.Contains('\n') || line.Contains('\r') || question != sample.Question.Trim()
            || answer != sample.Answer.Trim() || !parsed.SequenceEqual(steps))
            throw new ArgumentException(
                $"Sample '{Answers.Clip(sample.Question)}' cannot be written in the iCoT text format (a field contains '||', '####', a line break, or steps that do not split back the same way).",
                nameof(sample));
        return line;
    }

    /// <summary>Writes samples, one line each.</summary>
    public static void Write(TextWriter writer, IEnumerable<Sample> samples)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(samples);
        foreach (var sample in samples)
        {
            writer.Write(FormatLine(sample));
            writer.Write('\n');
        }
    }

    /// <summary>Writes samples to a file (UTF-8, no BOM, '\n' line ends).</summary>
    public static void Write(string path, IEnumerable<Sample> samples)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        Write(writer, samples);
    }

    static string? TrySplit(string line, out string question, out string reasoning, out string answer)
    {
        question = reasoning = answer = "";
        int bar = line.IndexOf(QuestionSeparator, StringComparison.Ordinal);
        if (bar < 0) return "missing '||' between question and reasoning";
        int hashes = line.IndexOf(AnswerSeparator, bar + QuestionSeparator.Length, StringComparison.Ordinal);
        if (hashes < 0) return "missing '####' before the answer";
        if (line.IndexOf(AnswerSeparator, hashes + AnswerSeparator.Length, StringComparison.Ordinal) >= 0) return "more than one '####'";
        question = line[..bar].Trim();
        reasoning = line[(bar + QuestionSeparator.Length)..hashes].Trim();
        answer = line[(hashes + AnswerSeparator.Length)..].Trim();
        if (question.Contains(QuestionSeparator, StringComparison.Ordinal) || question.Contains(AnswerSeparator, StringComparison.Ordinal))
            return "the question contains '||' or '####'";
        if (reasoning.Contains(QuestionSeparator, StringComparison.Ordinal)) return "more than one '||'";
        return null;
    }

    static string? TrySplitSteps(string reasoning, out IReadOnlyList<string> steps)
    {
        var result = new List<string>();
        steps = result;
        if (reasoning.Contains("<<", StringComparison.Ordinal))
        {
            // GSM8k-Aug: the equations are the steps; anything else between them would be silently lost, so it is an error.
            int at = 0;
            while (at < reasoning.Length)
            {
                int open = reasoning.IndexOf("<<", at, StringComparison.Ordinal);
                var gap = (open < 0 ? reasoning[at..] : reasoning[at..open]).Trim();
                if (gap.Length > 0) return $"text outside the <<…>> equations: '{Answers.Clip(gap)}'";
                if (open < 0) break;
                int close = reasoning.IndexOf(">>", open + 2, StringComparison.Ordinal);
                if (close < 0) return $"unterminated equation '{Answers.Clip(reasoning[open..])}' (no '>>')";
                var equation = reasoning[open..(close + 2)];
                if (equation.IndexOf("<<", 2, StringComparison.Ordinal) >= 0) return $"'<<' inside the equation '{Answers.Clip(equation)}'";
                if (equation.Length == 4) return "empty equation '<<>>'";
                result.Add(equation);
                at = close + 2;
            }
            return null;
        }
        foreach (var part in reasoning.Split(PlusSeparator))
        {
            var step = part.Trim();
            if (step.Length == 0) return "empty step between ' + ' separators";
            result.Add(step);
        }
        return null;
    }

    static bool IsEquation(string step) => step.StartsWith("<<", StringComparison.Ordinal) && step.EndsWith(">>", StringComparison.Ordinal) && step.Length > 4;
}
