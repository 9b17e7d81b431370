using CoLaR.Modules;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Inference;

/// <summary>Shared by every method: after the closing ###, decode up to N answer tokens per row until EOS.</summary>
internal static class AnswerDecoder
{
    /// <summary>Feeds ### to every row, then decodes. Returns each row's answer token ids.</summary>
    public static List<int>[] AfterClosingThink(Backbone backbone, DecodeState state, PromptLayout layout, int maxTokens, AnswerDecoding decoding, Generator? generator)
    {
        using var scope = torch.NewDisposeScope();
        long b = state.Batch;
        var all = torch.ones(b, dtype: ScalarType.Bool, device: state.Device);
        var last = state.StepTokens(torch.full(b, layout.ThinkId, dtype: ScalarType.Int64, device: state.Device), all);
        return Decode(backbone, state, last, layout, maxTokens, decoding, generator);
    }

    /// <summary>Decodes from <paramref name="last"/> (the hidden state that predicts the first answer token).</summary>
    public static List<int>[] Decode(Backbone backbone, DecodeState state, Tensor last, PromptLayout layout, int maxTokens, AnswerDecoding decoding, Generator? generator)
    {
        long b = state.Batch;
        var answers = Enumerable.Range(0, (int)b).Select(_ => new List<int>()).ToArray();
        var finished = new bool[b];
        for (int t = 0; t < maxTokens && finished.Contains(false); t++)
        {
            using var step = torch.NewDisposeScope();
            var next = TokenPicker.Pick(backbone.Logits(last), decoding, generator);            // [B]
            var ids = next.data<long>().ToArray();
            for (int i = 0; i < b; i++)
            {
                if (finished[i]) continue;
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
