using System.Collections.Concurrent;
using System.Globalization;
using CoLaR.Data;

namespace CoLaR.Text;

/// <summary>A sample as token ids, in the pieces every method assembles differently.</summary>
/// <param name="Question">"Question: {q} Let's think step by step:" (no speed suffix).</param>
/// <param name="Steps">Each reasoning step, tokenised on its own.</param>
/// <param name="Answer">### + "Answer:" + answer + EOS, the pieces tokenised separately.</param>
/// <param name="AnswerAnchor">Index in <paramref name="Answer"/> of the last token of "Answer:" (Distill aligns hidden states there).</param>
/// <param name="Source">The sample it was encoded from.</param>
public sealed record EncodedSample(int[] Question, int[][] Steps, int[] Answer, int AnswerAnchor, Sample Source)
{
    /// <summary>Reasoning tokens as CoT writes them: the steps joined by the separator (no leading ###).</summary>
    public int[] StepTokens(int[] separator, int skipSteps = 0)
    {
        var result = new List<int>();
        for (int i = skipSteps; i < Steps.Length; i++)
        {
            if (i > skipSteps) result.AddRange(separator);
            result.AddRange(Steps[i]);
        }
        return result.ToArray();
    }
}

/// <summary>
/// The prompt layout of the method (docs/training.md): question, optional "(Thinking speed: c)", "###",
/// steps joined by "\n", "###", "Answer:" + answer, EOS. Every piece is tokenised separately and the ids
/// concatenated, in training and inference alike, so BPE merges across piece boundaries cannot make the
/// two paths disagree (reference quirk 3).
/// </summary>
public sealed class PromptLayout(ITextTokenizer tokenizer)
{
    readonly ConcurrentDictionary<string, int[]> _cache = new();

    public ITextTokenizer Tokenizer { get; } = tokenizer;

    public int PadId => Tokenizer.PadId;
    public int EosId => Tokenizer.EosId;
    public int ThinkId => Tokenizer.ThinkId;

    /// <summary>The ids between two steps ("\n").</summary>
    public int[] StepSeparator => Cached("\n");

    public string QuestionText(string question) => $"Question: {question.Trim()} Let's think step by step:";

    /// <summary>The speed prompt: "(Thinking speed: 3)", or "(Thinking speed: auto)" when <paramref name="compression"/> is null.</summary>
    public int[] Speed(int? compression) =>
        Cached(compression is { } c ? $"(Thinking speed: {c.ToString(CultureInfo.InvariantCulture)})" : "(Thinking speed: auto)");

    public EncodedSample Encode(Sample sample)
    {
        var question = Tokenizer.Encode(QuestionText(sample.Question)).ToArray();
        var steps = sample.Steps.Select(s => Tokenizer.Encode(s.Trim()).ToArray()).ToArray();
        var answerLabel = Cached("Answer:");
        var answer = new List<int> { ThinkId };
        answer.AddRange(answerLabel);
        answer.AddRange(Tokenizer.Encode(sample.Answer.Trim()));
        answer.Add(EosId);
        return new EncodedSample(question, steps, answer.ToArray(), answerLabel.Length, sample);
    }

    /// <summary>The inference prompt: question [+ speed] + ###.</summary>
    public int[] Prompt(EncodedSample sample, int? compression, bool withSpeed)
    {
        var ids = new List<int>(sample.Question);
        if (withSpeed) ids.AddRange(Speed(compression));
        ids.Add(ThinkId);
        return ids.ToArray();
    }

    /// <summary>The text of an answer piece (after the closing ###): everything after "Answer:".</summary>
    public static string AnswerText(string decoded)
    {
        int at = decoded.LastIndexOf("Answer:", StringComparison.Ordinal);
        return (at >= 0 ? decoded[(at + "Answer:".Length)..] : decoded).Trim();
    }

    int[] Cached(string text) => _cache.GetOrAdd(text, t => Tokenizer.Encode(t).ToArray());
}
