using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Modules;

/// <summary>
/// Rotary position embedding in the Hugging Face layout (rotate the two halves of each head), with
/// optional Llama-3 frequency scaling. Inverse frequencies are computed once in double precision and
/// cached per device; they are not module state (nothing to save or load).
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

    /// <summary>cos and sin for the given position ids [B, T], shaped [B, 1, T, HeadDim] to broadcast over heads.</summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positionIds, ScalarType dtype)
    {
        var key = positionIds.device.ToString();
        if (!_perDevice.TryGetValue(key, out var inv))
        {
            inv = torch.tensor(_inverseFrequencies, device: positionIds.device);
            inv.DetachFromDisposeScope();
            _perDevice[key] = inv;
        }
        using var scope = torch.NewDisposeScope();
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inv;       // [B, T, D/2]
        var angles = torch.cat(new[] { freqs, freqs }, -1).unsqueeze(1);           // [B, 1, T, D]
        return (angles.cos().to(dtype).MoveToOuterDisposeScope(), angles.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>x·cos + rotate_half(x)·sin, where rotate_half(x) = [-x2, x1] over the last dimension's halves.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        var rotated = torch.cat(new[] { -x.narrow(-1, half, half), x.narrow(-1, 0, half) }, -1);
        return x * cos + rotated * sin;
    }
}
