using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Inference;

/// <summary>
/// Text generation for [ChainOfThought] and [DirectAnswer]: "question ###", then the model writes its
/// reasoning (greedy) until it emits ###, then the answer until EOS. #L counts reasoning tokens.
/// A direct-answer model (and iCoT once it has internalised every step) starts in the answer.
/// </summary>
public static class TextInference
{
    public static GenerationResult Generate(ReasonerModule model, GenerationRequest request)
    {
        var spec = model.Specification;
        var layout = request.Layout;
        var backbone = model.Backbone;
        int maxSteps = request.MaxSteps ?? spec.MaxLatentSteps;
        bool writesReasoning = spec.Method == ReasoningMethod.ChainOfThought;

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var prompts = request.Samples.Select(s => layout.Prompt(s, null, withSpeed: false)).ToList();
        var (ids, mask) = Training.Batching.Pad(prompts, layout.PadId, left: true, request.Device);
        using var state = new DecodeState(backbone, ids, mask, out var last);
        int b = (int)state.Batch;

        var reasoning = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var inAnswer = Enumerable.Repeat(!writesReasoning, b).ToArray();
        var stopped = Enumerable.Repeat(!writesReasoning, b).ToArray();
        if (writesReasoning)
        {
            // Reasoning: rows still thinking pick a token; ### (or the step limit) moves a row to its answer.
            for (int t = 0; t <= maxSteps && inAnswer.Contains(false); t++)
            {
                using var step = torch.NewDisposeScope();
                var picked = backbone.Logits(last).argmax(-1).cpu().data<long>().ToArray();
                var feed = new long[b];
                var active = new bool[b];
                for (int i = 0; i < b; i++)
                {
                    if (inAnswer[i]) { feed[i] = layout.PadId; continue; }
                    active[i] = true;
                    if (picked[i] == layout.ThinkId) { inAnswer[i] = true; stopped[i] = true; feed[i] = layout.ThinkId; }
                    else if (reasoning[i].Count >= maxSteps) { inAnswer[i] = true; feed[i] = layout.ThinkId; }
                    else { reasoning[i].Add((int)picked[i]); feed[i] = picked[i]; }
                }
                var activeRows = torch.tensor(active, device: request.Device);
                var next = state.StepTokens(torch.tensor(feed, device: request.Device), activeRows);
                // A row that moved on earlier keeps the hidden state of its own closing ###.
                last = torch.where(activeRows.unsqueeze(1), next, last).MoveToOuterDisposeScope();
            }
            // Every row has now been fed its closing ###: `last` predicts its first answer token.
        }
        else
        {
            // The prompt ended with ###; the answer starts here.
        }
        var answers = AnswerDecoder.Decode(backbone, state, last, layout, request.MaxAnswerTokens ?? spec.MaxAnswerTokens, request.AnswerDecoding, request.Generator);
        return new GenerationResult(Enumerable.Range(0, b)
            .Select(i => new GeneratedAnswer(layout.Tokenizer.Decode(answers[i]), reasoning[i].Count,
                writesReasoning ? layout.Tokenizer.Decode(reasoning[i]) : null, stopped[i]))
            .ToList());
    }
}
