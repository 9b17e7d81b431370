using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Modules;

/// <summary>
/// Keys and values of every layer for incremental decoding, stored before grouped-query expansion
/// ([B, KvHeads, S, HeadDim]). The cache owns its tensors (they live outside any dispose scope) and
/// frees them on <see cref="Dispose"/>.
/// <para>
/// Without gradients (inference) each layer's keys and values live in a buffer with spare room along
/// the sequence, grown by doubling: a step writes its positions in place and attends to a view of the
/// filled part, so a step copies only its own keys and values instead of the whole cache. With
/// gradients (training through the cache, as continuous-thought objectives do) the cache concatenates
/// instead: autograd keeps the tensors each step attended to, and writing into them later would
/// invalidate the backward pass.
/// </para>
/// </summary>
public sealed class KvCache : IDisposable
{
    const long MinimumCapacity = 64;

    readonly Tensor?[] _keys, _values;  // [B, KvHeads, capacity, HeadDim]
    readonly long[] _length;            // positions filled, per layer

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        _length = new long[layers];
    }

    /// <summary>Positions cached so far (the same in every layer once a forward completes).</summary>
    public long Length => _length[^1];

    /// <summary>Positions the key buffer of <paramref name="layer"/> has room for (equal to its length after a step with gradients).</summary>
    public long Capacity(int layer) => _keys[layer]?.shape[2] ?? 0;

    /// <summary>Appends this step's keys and values for <paramref name="layer"/> and returns the whole sequence's.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        long length = _length[layer], step = keys.shape[2];
        if (keys.requires_grad || values.requires_grad)
        {
            _keys[layer] = Concatenate(_keys[layer], length, keys);
            _values[layer] = Concatenate(_values[layer], length, values);
        }
        else
        {
            _keys[layer] = Write(_keys[layer], length, keys);
            _values[layer] = Write(_values[layer], length, values);
        }
        _length[layer] = length + step;
        return (_keys[layer]!.narrow(2, 0, length + step), _values[layer]!.narrow(2, 0, length + step));
    }

    static Tensor Concatenate(Tensor? cached, long length, Tensor step)
    {
        var all = cached is null ? step.alias() : torch.cat(new[] { cached.narrow(2, 0, length), step }, 2);
        all.DetachFromDisposeScope();
        cached?.Dispose();
        return all;
    }

    static Tensor Write(Tensor? buffer, long length, Tensor step)
    {
        long needed = length + step.shape[2];
        if (buffer is null || buffer.shape[2] < needed || buffer.requires_grad)
        {
            long capacity = Math.Max(needed, Math.Max(MinimumCapacity, 2 * (buffer?.shape[2] ?? 0)));
            var grown = torch.empty(new[] { step.shape[0], step.shape[1], capacity, step.shape[3] }, dtype: step.dtype, device: step.device);
            grown.DetachFromDisposeScope();
            if (buffer is not null && length > 0)
            {
                using var noGrad = torch.no_grad();
                using var target = grown.narrow(2, 0, length);
                using var source = buffer.narrow(2, 0, length);
                target.copy_(source);
            }
            buffer?.Dispose();
            buffer = grown;
        }
        using (torch.no_grad())
        using (var slot = buffer.narrow(2, length, step.shape[2]))
            slot.copy_(step);
        return buffer;
    }

    public void Dispose()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose(); _keys[i] = null;
            _values[i]?.Dispose(); _values[i] = null;
            _length[i] = 0;
        }
    }
}
