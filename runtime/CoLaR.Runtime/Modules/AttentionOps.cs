using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CoLaR.Modules;

/// <summary>Attention pieces shared by every generated backbone.</summary>
public static class AttentionOps
{
    /// <summary>
    /// The boolean mask SDPA takes (true = attend), [B, 1, T, S], for T new queries that are the last T of
    /// S positions: causal, padding keys hidden, and each query always sees itself so that a padding
    /// row never becomes all -inf (which would turn into NaN and leak through V).
    /// </summary>
    public static Tensor CausalPaddingMask(Tensor keyMask, long queryLength)
    {
        using var scope = torch.NewDisposeScope();
        long s = keyMask.shape[1], t = queryLength, offset = s - t;
        if (t == 1)
        {
            // One new query (a decoding step): it is the last position, so causality holds for every key;
            // the same mask in three native calls instead of twelve.
            var row = keyMask.ne(0);                                            // [B, S], a new tensor
            row.narrow(1, s - 1, 1).fill_(true);                                // the query sees itself
            return row.view(keyMask.shape[0], 1, 1, s).MoveToOuterDisposeScope();
        }
        var device = keyMask.device;
        var queryPos = torch.arange(offset, s, device: device).unsqueeze(1);    // [T, 1]
        var keyPos = torch.arange(0, s, device: device).unsqueeze(0);           // [1, S]
        var causal = keyPos <= queryPos;                                        // [T, S]
        var self = keyPos == queryPos;                                          // [T, S]
        var keys = keyMask.to(ScalarType.Bool).unsqueeze(1);                    // [B, 1, S]
        var mask = (causal.unsqueeze(0) & keys) | self.unsqueeze(0);            // [B, T, S]
        return mask.unsqueeze(1).MoveToOuterDisposeScope();                     // [B, 1, T, S]
    }

    /// <summary>Grouped-query attention: repeats each of the KvHeads key/value heads <paramref name="repeats"/> times.</summary>
    public static Tensor RepeatKv(Tensor x, int repeats)
    {
        if (repeats == 1) return x;
        long b = x.shape[0], kv = x.shape[1], s = x.shape[2], d = x.shape[3];
        return x.unsqueeze(2).expand(b, kv, repeats, s, d).reshape(b, kv * repeats, s, d);
    }

    /// <summary>Scaled dot-product attention (one place, so TorchSharp's API quirks stay here).</summary>
    public static Tensor Sdpa(Tensor q, Tensor k, Tensor v, Tensor mask) =>
        F.scaled_dot_product_attention(q, k, v, attn_mask: mask);

    /// <summary>Position ids from a left- or middle-padded attention mask: cumsum(mask) - 1, clamped at 0.</summary>
    public static Tensor PositionIds(Tensor attentionMask)
    {
        using var scope = torch.NewDisposeScope();
        return (attentionMask.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0).MoveToOuterDisposeScope();
    }
}
