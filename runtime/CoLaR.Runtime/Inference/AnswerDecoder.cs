using CoLaR.Modules;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Inference;

/// <summary>Shared by every method: after the closing ###, decode up to N answer tokens per row until EOS.</summary>
internal static class AnswerDecoder
{
    /// <summary>Feeds ### to every row, then decodes. Returns each row's answer token ids.</summary>
    public static List<int>[] AfterClosingThink(Backbone backbone, DecodeState state, PromptLayout layout, int maxTokens, AnswerDecoding decoding, Generator? generator,
        List<float>[]? logProbs = null)
    {
        using var scope = torch.NewDisposeScope();
        long b = state.Batch;
        var all = torch.ones(b, dtype: ScalarType.Bool, device: state.Device);
        var last = state.StepTokens(torch.full(b, layout.ThinkId, dtype: ScalarType.Int64, device: state.Device), all);
        return Decode(backbone, state, last, layout, maxTokens, decoding, generator, logProbs);
    }

    /// <summary>Decodes from <paramref name="last"/> (the hidden state that predicts the first answer token).
    /// <paramref name="logProbs"/>, when given, receives each emitted token's log-probability under the model (temperature 1), EOS included.</summary>
    public static List<int>[] Decode(Backbone backbone, DecodeState state, Tensor last, PromptLayout layout, int maxTokens, AnswerDecoding decoding, Generator? generator,
        List<float>[]? logProbs = null)
    {
        long b = state.Batch;
        var answers = Enumerable.Range(0, (int)b).Select(_ => new List<int>()).ToArray();
        var finished = new bool[b];
        for (int t = 0; t < maxTokens && finished.Contains(false); t++)
        {
            using var step = torch.NewDisposeScope();
            var logits = backbone.Logits(last);
            var next = TokenPicker.Pick(logits, decoding, generator);                           // [B]
            var ids = next.cpu().data<long>().ToArray();
            var picked = logProbs is null ? null
                : torch.nn.functional.log_softmax(logits.to(ScalarType.Float32), -1).gather(1, next.unsqueeze(1)).squeeze(1).cpu().data<float>().ToArray();
            for (int i = 0; i < b; i++)
            {
                if (finished[i]) continue;
                if (picked is not null) logProbs![i].Add(picked[i]);
                if (ids[i] == layout.EosId) finished[i] = true;
                else answers[i].Add((int)ids[i]);
            }
            if (t + 1 < maxTokens && finished.Contains(false))
            {
                var active = torch.tensor(finished.Select(f => !f).ToArray(), device: state.Device);
                last = state.StepTokens(next, active).MoveToOuterDisposeScope();
            }
        }
        return answers;
    }
}
