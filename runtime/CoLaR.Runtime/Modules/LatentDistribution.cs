using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Modules;

/// <summary>
/// The latent head's output: a diagonal Normal over the next compressed embedding divided by
/// embeds_std. A deterministic head has no <see cref="LogStd"/>: sampling returns the mean.
/// </summary>
public readonly record struct LatentDistribution(Tensor Mean, Tensor? LogStd)
{
    /// <summary>
    /// The range a Gaussian head's log-std is clamped to. An MSE-trained head drives its std toward 0; below
    /// e^-7 (in embeds_std units) fp32 rounding differences between two forward passes of the same weights,
    /// divided by the std, already move a latent's log-prob by hundreds, which makes GRPO's ratio overflow.
    /// The floor costs the latent loss at most e^-14 per dimension. The ceiling keeps exp finite.
    /// </summary>
    public const double MinLogStd = -7, MaxLogStd = 2;

    /// <summary>Treated as std 0 by sampling; used where a deterministic head needs a log-prob.</summary>
    public const double DeterministicLogStd = -13.8; // log(1e-6)

    public bool IsDeterministic => LogStd is null;

    /// <summary>The same distribution in float32 (itself when it already is): latent losses are computed in fp32.</summary>
    public LatentDistribution ToFloat32() =>
        Mean.dtype == ScalarType.Float32 && (LogStd is null || LogStd.dtype == ScalarType.Float32)
            ? this
            : new LatentDistribution(Mean.to(ScalarType.Float32), LogStd?.to(ScalarType.Float32));

    /// <summary>
    /// The same distribution with its std raised to at least <paramref name="minStd"/> (in embeds_std units): GRPO's
    /// exploration floor for a head whose std has collapsed. 0, or a deterministic head: itself.
    /// </summary>
    public LatentDistribution WithStdFloor(double minStd) =>
        LogStd is null || minStd <= 0 ? this : new LatentDistribution(Mean, LogStd.clamp_min(Math.Log(minStd)));

    /// <summary>The per-dimension standard deviation.</summary>
    public Tensor Std() => LogStd is null ? torch.full_like(Mean, Math.Exp(DeterministicLogStd)) : LogStd.exp();

    /// <summary>A reparameterised sample mean + std·T·ε (gradients reach mean and log-std).</summary>
    public Tensor Rsample(double temperature = 1.0, Generator? generator = null)
    {
        if (LogStd is null || temperature == 0) return Mean.alias();
        using var scope = torch.NewDisposeScope();
        var eps = torch.randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);
        return (Mean + LogStd.exp() * temperature * eps).MoveToOuterDisposeScope();
    }

    /// <summary>log N(x; mean, std), averaged over the hidden dimension: [..., H] → [...].</summary>
    public Tensor LogProb(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var logStd = LogStd ?? torch.full_like(Mean, DeterministicLogStd);
        var z = (x - Mean) / logStd.exp();
        var logProb = -0.5 * z.pow(2) - logStd - 0.5 * Math.Log(2 * Math.PI);
        return logProb.mean(new long[] { -1 }).MoveToOuterDisposeScope();
    }

    /// <summary>Entropy of the Normal, averaged over the hidden dimension: [..., H] → [...].</summary>
    public Tensor Entropy()
    {
        using var scope = torch.NewDisposeScope();
        var logStd = LogStd ?? torch.full_like(Mean, DeterministicLogStd);
        return (logStd + 0.5 * (1 + Math.Log(2 * Math.PI))).mean(new long[] { -1 }).MoveToOuterDisposeScope();
    }
}
