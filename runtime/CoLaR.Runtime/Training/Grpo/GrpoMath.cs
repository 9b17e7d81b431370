using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Training.Grpo;

/// <summary>The arithmetic of GRPO, kept pure so it can be checked against hand-computed values.</summary>
public static class GrpoMath
{
    /// <summary>Reward of one rollout: 1 if correct, else 0; with the length penalty, divided by max(1, #L).</summary>
    public static double Reward(bool correct, int steps, bool lengthPenalty) =>
        !correct ? 0 : lengthPenalty ? 1.0 / Math.Max(1, steps) : 1.0;

    /// <summary>
    /// Group-normalised advantages: rollouts come in consecutive groups of <paramref name="groupSize"/>;
    /// A = (r - mean) / (std + eps) with the population std of the group. A group whose rewards are all
    /// equal gets zero advantages (nothing to prefer).
    /// </summary>
    public static double[] GroupAdvantages(IReadOnlyList<double> rewards, int groupSize, double eps = 1e-4)
    {
        if (groupSize < 1 || rewards.Count % groupSize != 0)
            throw new ArgumentException($"{rewards.Count} rewards do not split into groups of {groupSize}");
        var result = new double[rewards.Count];
        for (int g = 0; g < rewards.Count; g += groupSize)
        {
            double mean = 0;
            for (int i = 0; i < groupSize; i++) mean += rewards[g + i];
            mean /= groupSize;
            double variance = 0;
            for (int i = 0; i < groupSize; i++) variance += (rewards[g + i] - mean) * (rewards[g + i] - mean);
            double std = Math.Sqrt(variance / groupSize);
            for (int i = 0; i < groupSize; i++) result[g + i] = (rewards[g + i] - mean) / (std + eps);
        }
        return result;
    }

    /// <summary>The bound on |new - old| log-prob in <see cref="ClippedLoss"/>: far outside any clip range, it only stops exp overflowing.</summary>
    public const double MaxLogRatio = 20;

    /// <summary>
    /// PPO's clipped surrogate, to minimise: -min(ρ·A, clip(ρ, 1-ε, 1+ε)·A) with ρ = exp(new - old), over
    /// token log-probs [N, T] masked by <paramref name="mask"/> [N, T] with per-rollout advantages [N].
    /// <paramref name="perToken"/>: average over all unmasked tokens; otherwise sum each rollout's tokens
    /// and average over rollouts. The log-ratio is clamped to ±<see cref="MaxLogRatio"/> (far outside the clip
    /// range, so only a numerical blow-up is affected) and masked entries are replaced, not multiplied by 0,
    /// so one overflowing padded entry cannot turn the whole loss into NaN.
    /// </summary>
    public static Tensor ClippedLoss(Tensor newLogProbs, Tensor oldLogProbs, Tensor advantages, Tensor mask, double clip, bool perToken)
    {
        using var scope = torch.NewDisposeScope();
        var m = mask.to(newLogProbs.dtype);
        var ratio = (newLogProbs - oldLogProbs).clamp(-MaxLogRatio, MaxLogRatio).exp(); // [N, T]
        var a = advantages.unsqueeze(1);                                               // [N, 1]
        var surrogate = torch.minimum(ratio * a, ratio.clamp(1 - clip, 1 + clip) * a);  // [N, T]
        var loss = -torch.where(mask.to(ScalarType.Bool), surrogate, torch.zeros_like(surrogate));
        var result = perToken
            ? loss.sum() / m.sum().clamp_min(1)
            : loss.sum(1).mean();
        return result.MoveToOuterDisposeScope();
    }
}
