using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Modules;

/// <summary>
/// Rotary position embedding in the Hugging Face layout (rotate the two halves of each head), with
/// optional Llama-3 frequency scaling. Inverse frequencies are computed once in double precision and
/// cached per device; they are not module state (nothing to save or load).
/// <para>
/// rotate_half(x)·sin = [-x₂, x₁]·sin is computed as roll(x, D/2)·[-sin₁, sin₂] = [x₂, x₁]·[-sin₁, sin₂]:
/// the sign is folded into the sine table once per forward (<see cref="CosSin"/>), so each application is
/// a roll, a multiply and one fused multiply-add instead of narrow, negate, concatenate, two multiplies and
/// an add (measured: 25–30% less time for RoPE forward + backward; docs/performance.md). Negation is exact,
/// so the values are those of the textbook formula.
/// </para>
/// </summary>
public sealed class Rope
{
    readonly float[] _inverseFrequencies;
    readonly Dictionary<string, Tensor> _perDevice = new();

    public Rope(int headDim, double theta, RopeScaling? scaling = null)
    {
        _inverseFrequencies = InverseFrequencies(headDim, theta, scaling).Select(f => (float)f).ToArray();
    }

    /// <summary>1 / theta^(2i/d) for i in 0..d/2, then Llama-3 scaling when given.</summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling? scaling)
    {
        var inv = new double[headDim / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        if (scaling is null) return inv;

        // Llama 3.1+: long wavelengths are divided by the factor, short ones kept, the band between blended.
        double lowWavelength = scaling.OriginalMaxPositions / scaling.LowFreqFactor;
        double highWavelength = scaling.OriginalMaxPositions / scaling.HighFreqFactor;
        for (int i = 0; i < inv.Length; i++)
        {
            double wavelength = 2 * Math.PI / inv[i];
            if (wavelength > lowWavelength) inv[i] /= scaling.Factor;
            else if (wavelength >= highWavelength)
            {
                double smooth = (scaling.OriginalMaxPositions / wavelength - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                inv[i] = (1 - smooth) * inv[i] / scaling.Factor + smooth * inv[i];
            }
        }
        return inv;
    }

    /// <summary>
    /// cos and the signed sine [-sin₁, sin₂] (the form <see cref="Apply"/> takes) for the given position ids
    /// [B, T], each shaped [B, 1, T, HeadDim] to broadcast over heads.
    /// </summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positionIds, ScalarType dtype)
    {
        var key = positionIds.device.ToString();
        if (!_perDevice.TryGetValue(key, out var table))
        {
            // [2, D/2]: the inverse frequencies, and the sign of each half of the rotation.
            int half = _inverseFrequencies.Length;
            var sign = Enumerable.Repeat(-1f, half).Concat(Enumerable.Repeat(1f, half)).ToArray();
            table = torch.tensor(_inverseFrequencies.Concat(sign).ToArray(), device: positionIds.device);
            table.DetachFromDisposeScope();
            _perDevice[key] = table;
        }
        using var scope = torch.NewDisposeScope();
        long d2 = _inverseFrequencies.Length;
        var inv = table.narrow(0, 0, d2);
        var signs = table.narrow(0, d2, 2 * d2);
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inv;       // [B, T, D/2]
        var angles = torch.cat(new[] { freqs, freqs }, -1).unsqueeze(1);           // [B, 1, T, D]
        var cos = angles.cos();
        var sin = angles.sin().mul_(signs);                                        // [-sin₁, sin₂]
        if (dtype != ScalarType.Float32) { cos = cos.to(dtype); sin = sin.to(dtype); }
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// x·cos + rotate_half(x)·sin, where rotate_half(x) = [-x₂, x₁] over the last dimension's halves;
    /// <paramref name="signedSin"/> is the sine as <see cref="CosSin"/> returns it, [-sin₁, sin₂].
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin)
    {
        using var scope = torch.NewDisposeScope();
        var swapped = x.roll(x.shape[^1] / 2, -1);                                 // [x₂, x₁]
        return torch.addcmul(x * cos, swapped, signedSin, 1).MoveToOuterDisposeScope();
    }
}
