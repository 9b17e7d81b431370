using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Inference;

/// <summary>
/// CoLaR inference: encode "question (Thinking speed: c) ###" into a KV cache; then, per step, the
/// latent head samples the next compressed embedding (× embeds_std) and it is fed back as the next
/// input; a row stops when the LM head's greedy token at its newest position is ### (checked from the
/// ### position on, exactly where training put the stop label). Then ### is appended and the answer
/// decoded. #L is the number of latents fed.
/// </summary>
public static class LatentInference
{
    public static GenerationResult Generate(ReasonerModule model, GenerationRequest request)
    {
        var spec = model.Specification;
        var (min, max) = spec.CompressionRange;
        if (request.Compression < min || request.Compression > max)
            throw new ArgumentOutOfRangeException(nameof(request), request.Compression,
                $"{spec.Name} was trained for compression {min}..{max}; --compression {request.Compression} is outside that range");
        var layout = request.Layout;
        var backbone = model.Backbone;
        double embedsStd = model.EnsureEmbedsStd();
        int maxSteps = request.MaxSteps ?? spec.MaxLatentSteps;

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var prompts = request.Samples.Select(s => layout.Prompt(s, request.Compression, withSpeed: true)).ToList();
        var (ids, mask) = Training.Batching.Pad(prompts, layout.PadId, left: true, request.Device);
        using var state = new DecodeState(backbone, ids, mask, out var last);
        long b = state.Batch;

        var done = IsThink(backbone, last, layout.ThinkId);                                     // [B]
        var steps = torch.zeros(b, dtype: ScalarType.Int64, device: request.Device);
        for (int s = 0; s < maxSteps && !done.all().item<bool>(); s++)
        {
            using var step = torch.NewDisposeScope();
            var latent = model.PredictLatent(last).Rsample(request.LatentTemperature, request.Generator) * embedsStd; // [B, H]
            var active = done.logical_not();
            var next = state.Step(latent, active);
            var newSteps = steps + active.to(ScalarType.Int64);
            var newDone = done | (active & IsThink(backbone, next, layout.ThinkId));
            last = next.MoveToOuterDisposeScope();
            steps = newSteps.MoveToOuterDisposeScope();
            done = newDone.MoveToOuterDisposeScope();
        }

        var answers = AnswerDecoder.AfterClosingThink(backbone, state, layout, request.MaxAnswerTokens ?? spec.MaxAnswerTokens, request.AnswerDecoding, request.Generator);
        var stepCounts = steps.cpu().data<long>().ToArray();
        var stopped = done.cpu().data<bool>().ToArray();
        return new GenerationResult(Enumerable.Range(0, (int)b)
            .Select(i => new GeneratedAnswer(layout.Tokenizer.Decode(answers[i]), (int)stepCounts[i], null, stopped[i]))
            .ToList());
    }

    /// <summary>Whether the LM head's greedy token for each row is ###: [B, H] → [B] bool.</summary>
    internal static Tensor IsThink(Backbone backbone, Tensor last, int thinkId)
    {
        using var scope = torch.NewDisposeScope();
        return (backbone.Logits(last).argmax(-1) == thinkId).MoveToOuterDisposeScope();
    }
}
