using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Modules;

/// <summary>
/// Keys and values of every layer for incremental decoding, stored before grouped-query expansion
/// ([B, KvHeads, S, HeadDim]). The cache owns its tensors (they live outside any dispose scope) and
/// frees them on <see cref="Dispose"/>.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _keys, _values;

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Positions cached so far (the same in every layer once a forward completes).</summary>
    public long Length => _keys[^1]?.shape[2] ?? 0;

    /// <summary>Appends this step's keys and values for <paramref name="layer"/> and returns the whole sequence's.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        _keys[layer] = Extend(_keys[layer], keys);
        _values[layer] = Extend(_values[layer], values);
        return (_keys[layer]!, _values[layer]!);
    }

    static Tensor Extend(Tensor? cached, Tensor step)
    {
        var all = cached is null ? step.alias() : torch.cat(new[] { cached, step }, 2);
        all.DetachFromDisposeScope();
        cached?.Dispose();
        return all;
    }

    public void Dispose()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose(); _keys[i] = null;
            _values[i]?.Dispose(); _values[i] = null;
        }
    }
}
