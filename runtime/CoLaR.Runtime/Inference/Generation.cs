using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Inference;

/// <summary>How to answer a batch of questions.</summary>
/// <param name="Samples">The questions (their reasoning and answers are not shown to the model).</param>
/// <param name="Layout">Prompt layout and tokenizer.</param>
/// <param name="Device">Where to run.</param>
/// <param name="Compression">The speed prompted to a latent reasoner ("(Thinking speed: c)").</param>
/// <param name="LatentTemperature">Scales the latent head's std when sampling latents (0: use the mean).</param>
/// <param name="Answer">Answer decoding: greedy, or top-p sampling.</param>
/// <param name="Generator">Random source for sampling, seeded by the caller.</param>
/// <param name="MaxSteps">Overrides the spec's MaxLatentSteps.</param>
/// <param name="MaxAnswerTokens">Overrides the spec's MaxAnswerTokens.</param>
public sealed record GenerationRequest(
    IReadOnlyList<EncodedSample> Samples,
    PromptLayout Layout,
    Device Device,
    int Compression = 1,
    double LatentTemperature = 1.0,
    AnswerDecoding? Answer = null,
    Generator? Generator = null,
    int? MaxSteps = null,
    int? MaxAnswerTokens = null)
{
    public AnswerDecoding AnswerDecoding => Answer ?? AnswerDecoding.Greedy;
}

/// <summary>Greedy decoding (the baselines' papers), or nucleus sampling (top-p 0.9, T = 1 in the CoLaR paper).</summary>
public sealed record AnswerDecoding(bool Sample, double TopP = 0.9, double Temperature = 1.0)
{
    public static readonly AnswerDecoding Greedy = new(false);
    public static readonly AnswerDecoding TopP09 = new(true, 0.9, 1.0);
    public override string ToString() => Sample ? $"top-p {TopP} (T={Temperature})" : "greedy";
}

/// <summary>One answered question.</summary>
/// <param name="AnswerText">The decoded text after the closing ### (e.g. "Answer:42").</param>
/// <param name="Steps">#L: latent steps taken, or CoT reasoning tokens generated.</param>
/// <param name="ReasoningText">The reasoning as text, for methods that write it (CoT).</param>
/// <param name="StoppedByModel">The model ended its reasoning itself (else it hit the step limit).</param>
public sealed record GeneratedAnswer(string AnswerText, int Steps, string? ReasoningText, bool StoppedByModel)
{
    /// <summary>The text after "Answer:".</summary>
    public string Answer => PromptLayout.AnswerText(AnswerText);
}

/// <summary>The answers, in request order.</summary>
public sealed record GenerationResult(IReadOnlyList<GeneratedAnswer> Answers);
