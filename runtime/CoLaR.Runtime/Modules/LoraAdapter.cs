using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CoLaR.Modules;

/// <summary>
/// One slice of a (possibly fused) projection's output: the projection a checkpoint stores separately
/// (<c>model.layers.0.self_attn.k_proj</c>, without <c>.weight</c>), its output width, and whether LoRA adapts it.
/// </summary>
public readonly record struct LoraPart(string Name, int Features, bool Adapted);

/// <summary>
/// Low-rank adapters on one projection of the backbone (LoRA, Hu et al. 2021): for every adapted part,
/// <c>y += (alpha / rank) · B (A x)</c> with A [rank, in] and B [out, rank]; B starts at zero, so a fresh
/// adapter leaves the model unchanged, and A is uniform(±1/√in) as PEFT initialises it. A fused projection
/// (Q/K/V, gate/up) keeps one matmul for every part's A; parts that are not adapted get a zero update.
/// The adapted projection's weights are not this module's: they stay where they are, frozen.
/// <para>
/// Checkpoint names follow PEFT's (without its <c>base_model.model.</c> prefix):
/// <c>{part}.lora_A.weight</c> [rank, in] and <c>{part}.lora_B.weight</c> [out, rank].
/// </para>
/// </summary>
public sealed class LoraAdapter : nn.Module<Tensor, Tensor>
{
    readonly Linear _target;        // the projection adapted; registered by its owner, not here
    readonly LoraPart[] _parts;
    readonly int[] _adapted;         // indices of the adapted parts, in output order
    readonly int _rank;

    // Parameters are looked up by name, never kept in fields or properties: Module.to() replaces them (and sets
    // any property of the same name by reflection).
    /// <summary>The stacked A matrices of the adapted parts: [adapted parts × rank, in].</summary>
    Parameter A() => (Parameter)get_parameter("lora_A")!;

    /// <param name="target">The projection (a Linear in our [out, in] layout) whose output this adapter adds to.</param>
    /// <param name="options">Rank and alpha.</param>
    /// <param name="parts">The slices of the target's output, in order; their widths must add up to its output width.</param>
    public LoraAdapter(Linear target, LoraOptions options, params LoraPart[] parts) : base("lora")
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Rank < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Rank, "LoRA rank must be positive");
        if (options.Alpha <= 0 || !double.IsFinite(options.Alpha)) throw new ArgumentOutOfRangeException(nameof(options), options.Alpha, "LoRA alpha must be positive");
        _target = target;
        _parts = parts;
        _rank = options.Rank;
        Scale = options.Alpha / options.Rank;
        var weight = target.weight!;
        long outFeatures = weight.shape[0], inFeatures = weight.shape[1];
        if (parts.Sum(p => (long)p.Features) != outFeatures)
            throw new ArgumentException($"LoRA parts ({string.Join(", ", parts.Select(p => $"{p.Name}: {p.Features}"))}) do not add up to the projection's {outFeatures} outputs");
        _adapted = Enumerable.Range(0, parts.Length).Where(i => parts[i].Adapted).ToArray();
        if (_adapted.Length == 0) throw new ArgumentException("a LoRA adapter needs at least one adapted part");

        using (torch.no_grad())
        {
            double bound = 1 / Math.Sqrt(inFeatures);
            var a = torch.empty(_adapted.Length * _rank, inFeatures, dtype: weight.dtype, device: weight.device).uniform_(-bound, bound);
            register_parameter("lora_A", new Parameter(a));
            foreach (var i in _adapted)
                register_parameter(BName(i), new Parameter(torch.zeros(parts[i].Features, _rank, dtype: weight.dtype, device: weight.device)));
        }
    }

    /// <summary>alpha / rank.</summary>
    public double Scale { get; }

    public int Rank => _rank;

    public IReadOnlyList<LoraPart> Parts => _parts;

    static string BName(int part) => $"lora_B_{part}";

    Parameter B(int part) => (Parameter)get_parameter(BName(part))!;

    /// <summary>The update to add to the target's output: [.., in] → [.., out].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var a = F.linear(x, A());                                              // [.., adapted × rank]
        var pieces = new List<Tensor>(_parts.Length);
        int k = 0;
        for (int i = 0; i < _parts.Length; i++)
        {
            if (_parts[i].Adapted)
                pieces.Add(F.linear(a.narrow(-1, (long)k++ * _rank, _rank), B(i)));  // [.., features]
            else
                pieces.Add(x.new_zeros(x.shape[..^1].Append(_parts[i].Features).ToArray()));
        }
        var delta = pieces.Count == 1 ? pieces[0] : torch.cat(pieces, -1);       // [.., out]
        return (delta * Scale).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Folds the adapters into the target's weight (W += scale · B·A for each adapted part) and zeroes B, so the
    /// module computes the same function with the update now part of W. Used before exporting full weights.
    /// </summary>
    public void Merge()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var weight = _target.weight!;
        long offset = 0;
        int k = 0;
        for (int i = 0; i < _parts.Length; i++)
        {
            if (_parts[i].Adapted)
            {
                var a = A().narrow(0, (long)k++ * _rank, _rank).to(ScalarType.Float32);
                var delta = B(i).to(ScalarType.Float32).matmul(a) * Scale;                 // [features, in]
                var rows = weight.narrow(0, offset, _parts[i].Features);
                rows.copy_(rows.to(ScalarType.Float32) + delta);
                B(i).zero_();
            }
            offset += _parts[i].Features;
        }
    }

    /// <summary>The adapter's tensors under PEFT-style names, as views of its parameters (loading writes through them).</summary>
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors()
    {
        int k = 0;
        for (int i = 0; i < _parts.Length; i++)
        {
            if (!_parts[i].Adapted) continue;
            yield return (_parts[i].Name + ".lora_A.weight", A().narrow(0, (long)k++ * _rank, _rank));
            yield return (_parts[i].Name + ".lora_B.weight", B(i));
        }
    }
}
