using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Training;

/// <summary>Jagged token lists → padded id tensors with attention masks.</summary>
public static class Batching
{
    /// <summary>Label value ignored by the cross-entropy.</summary>
    public const long Ignore = -100;

    /// <summary>Pads to the longest row: on the left (prompts, so they end together) or the right (continuations).</summary>
    public static (Tensor Ids, Tensor Mask) Pad(IReadOnlyList<int[]> rows, int padId, bool left, Device device)
    {
        int b = rows.Count, width = Math.Max(1, rows.Count == 0 ? 1 : rows.Max(r => r.Length));
        var ids = new long[b * width];
        var mask = new long[b * width];
        for (int i = 0; i < b; i++)
        {
            var row = rows[i];
            int offset = left ? width - row.Length : 0;
            for (int j = 0; j < width; j++) ids[i * width + j] = padId;
            for (int j = 0; j < row.Length; j++)
            {
                ids[i * width + offset + j] = row[j];
                mask[i * width + offset + j] = 1;
            }
        }
        return (torch.tensor(ids, new long[] { b, width }, device: device), torch.tensor(mask, new long[] { b, width }, device: device));
    }

    /// <summary>Cross-entropy of next-token prediction: logits at position p are scored against labels[p + 1].
    /// Only positions with a label are sent through the LM head, which matters for large vocabularies.</summary>
    public static (Tensor Loss, long Count) NextTokenCrossEntropy(Modules.Backbone backbone, Tensor hidden, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        long b = hidden.shape[0], l = hidden.shape[1], h = hidden.shape[2];
        var targets = labels.narrow(1, 1, l - 1).reshape(-1);                    // [B·(L-1)]
        var keep = (targets != Ignore).nonzero().squeeze(1);                      // [N]
        long count = keep.shape[0];
        if (count == 0) return (torch.zeros(1, device: hidden.device).sum().MoveToOuterDisposeScope(), 0);
        var states = hidden.narrow(1, 0, l - 1).reshape(-1, h).index_select(0, keep); // [N, H]
        var logits = backbone.Logits(states);                                       // [N, V]
        var loss = torch.nn.functional.cross_entropy(logits.to(ScalarType.Float32), targets.index_select(0, keep));
        return (loss.MoveToOuterDisposeScope(), count);
    }

    /// <summary>Mean of <paramref name="values"/> where <paramref name="mask"/> is set (0 when none is).</summary>
    public static Tensor MaskedMean(Tensor values, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        var m = mask.to(values.dtype);
        return ((values * m).sum() / m.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }
}
