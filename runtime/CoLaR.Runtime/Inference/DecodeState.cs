using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Inference;

/// <summary>
/// A batch being decoded one position at a time over a KV cache. Rows advance independently: a row
/// that has finished still receives an input (so the batch stays rectangular), but that position is
/// masked out of attention and does not advance its position id, so it never influences the row.
/// </summary>
internal sealed class DecodeState : IDisposable
{
    readonly Backbone _backbone;
    readonly KvCache _cache;
    Tensor _mask;          // [B, S]: which cached positions each row may attend to
    Tensor _nextPosition;  // [B, 1]: the position id of each row's next real input

    public DecodeState(Backbone backbone, Tensor promptIds, Tensor promptMask, out Tensor lastHidden)
    {
        _backbone = backbone;
        _cache = backbone.NewCache();
        using var scope = torch.NewDisposeScope();
        var hidden = backbone.Forward(backbone.Embed(promptIds), promptMask, AttentionOps.PositionIds(promptMask), _cache);
        lastHidden = hidden.select(1, hidden.shape[1] - 1).MoveToOuterDisposeScope();    // [B, H]
        _mask = promptMask.alias().DetachFromDisposeScope();
        _nextPosition = promptMask.sum(1, keepdim: true).DetachFromDisposeScope();
    }

    public long Batch => _mask.shape[0];
    public Device Device => _mask.device;

    /// <summary>Feeds one input embedding per row ([B, H]); <paramref name="active"/> [B] says which rows really advance. Returns the new last hidden states [B, H].</summary>
    public Tensor Step(Tensor embeds, Tensor active)
    {
        using var scope = torch.NewDisposeScope();
        var column = active.to(ScalarType.Int64).unsqueeze(1);                                 // [B, 1]
        var mask = torch.cat(new[] { _mask, column }, 1);                                       // [B, S+1]
        var hidden = _backbone.Forward(embeds.unsqueeze(1), mask, _nextPosition, _cache);       // [B, 1, H]
        var next = (_nextPosition + column).DetachFromDisposeScope();
        _nextPosition.Dispose(); _nextPosition = next;
        _mask.Dispose(); _mask = mask.DetachFromDisposeScope();
        return hidden.squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Feeds one token per row.</summary>
    public Tensor StepTokens(Tensor tokens, Tensor active)
    {
        using var scope = torch.NewDisposeScope();
        return Step(_backbone.Embed(tokens), active).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _cache.Dispose();
        _mask.Dispose();
        _nextPosition.Dispose();
    }
}

/// <summary>Choosing the next token from logits.</summary>
public static class TokenPicker
{
    /// <summary>Greedy, or nucleus sampling: the smallest set of tokens whose probability reaches TopP, renormalised.</summary>
    public static Tensor Pick(Tensor logits, AnswerDecoding decoding, Generator? generator)
    {
        if (!decoding.Sample) return logits.argmax(-1);
        using var scope = torch.NewDisposeScope();
        var probs = torch.nn.functional.softmax(logits.to(ScalarType.Float32) / decoding.Temperature, -1);
        var (sorted, order) = probs.sort(-1, descending: true);
        var before = sorted.cumsum(-1) - sorted;                                  // mass strictly before each token
        sorted = sorted.masked_fill(before >= decoding.TopP, 0);                  // always keeps the top token
        var choice = torch.multinomial(sorted / sorted.sum(-1, keepdim: true), 1, generator: generator); // [B, 1]
        return order.gather(-1, choice).squeeze(-1).MoveToOuterDisposeScope();
    }
}
