using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Inference;

/// <summary>
/// Continuous-thought inference (Coconut, Distill): "question ###" into a KV cache, then MaxThoughts
/// thoughts, each the (projected) last hidden state fed back with the question still in context, then
/// ### and the answer. #L is the fixed thought count.
/// </summary>
public static class ThoughtInference
{
    public static GenerationResult Generate(ReasonerModule model, GenerationRequest request)
    {
        var spec = model.Specification;
        var layout = request.Layout;
        var backbone = model.Backbone;
        int thoughts = spec.Thoughts?.Max ?? 0;

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var prompts = request.Samples.Select(s => layout.Prompt(s, null, withSpeed: false)).ToList();
        var (ids, mask) = Training.Batching.Pad(prompts, layout.PadId, left: true, request.Device);
        using var state = new DecodeState(backbone, ids, mask, out var last);
        var all = torch.ones(state.Batch, dtype: ScalarType.Bool, device: request.Device);
        for (int t = 0; t < thoughts; t++)
        {
            using var step = torch.NewDisposeScope();
            last = state.Step(model.ProjectThought(last), all).MoveToOuterDisposeScope();
        }
        var answers = AnswerDecoder.AfterClosingThink(backbone, state, layout, request.MaxAnswerTokens ?? spec.MaxAnswerTokens, request.AnswerDecoding, request.Generator);
        return new GenerationResult(answers.Select(a => new GeneratedAnswer(layout.Tokenizer.Decode(a), thoughts, null, true)).ToList());
    }
}
