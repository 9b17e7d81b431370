using static TorchSharp.torch;

namespace CoLaR.Checkpoints;

/// <summary>
/// Tensors read from a safetensors file (CPU, in the stored dtypes) with the file's metadata. Disposing it
/// disposes the tensors; keep one beyond that with <c>tensor.clone()</c> or copy it into a parameter.
/// </summary>
public sealed class TensorFile : IDisposable
{
    readonly Dictionary<string, Tensor> _tensors;

    internal TensorFile(SafeTensorsHeader header, IReadOnlyList<string> names, Dictionary<string, Tensor> tensors)
    {
        Header = header;
        Names = names;
        _tensors = tensors;
    }

    /// <summary>The file, as the caller named it.</summary>
    public string Path => Header.Path;

    /// <summary>The validated header (entries, offsets, sizes).</summary>
    public SafeTensorsHeader Header { get; }

    /// <summary>The file's <c>__metadata__</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <summary>The names of the tensors read, in header order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The tensors read, by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    /// <summary>The tensor with this name.</summary>
    /// <exception cref="KeyNotFoundException">The file has no such tensor (or it was not selected).</exception>
    public Tensor this[string name] => _tensors.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"{Path} has no tensor {CheckpointException.Quote(name)}");

    /// <summary>Disposes every tensor read.</summary>
    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
