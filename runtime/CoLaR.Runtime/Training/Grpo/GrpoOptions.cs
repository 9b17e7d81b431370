namespace CoLaR.Training.Grpo;

/// <summary>Options of stage 2, GRPO over latent reasoning (docs/training.md, "Stage 2").</summary>
public sealed record GrpoOptions
{
    /// <summary>Rollout-and-update iterations.</summary>
    public int Steps { get; init; } = 100;
    /// <summary>Questions per iteration; each gets <see cref="GroupSize"/> rollouts.</summary>
    public int Questions { get; init; } = 16;
    /// <summary>Rollouts per question (the group advantages are normalised within).</summary>
    public int GroupSize { get; init; } = 8;
    /// <summary>Rollouts per gradient step; experiences are shuffled across groups first.</summary>
    public int MiniBatch { get; init; } = 32;
    /// <summary>Passes over each iteration's experiences.</summary>
    public int UpdateEpochs { get; init; } = 1;
    public double LearningRate { get; init; } = 1e-5;
    public double WeightDecay { get; init; } = 0.0;
    public double GradientClip { get; init; } = 1.0;
    /// <summary>PPO ratio clip ε.</summary>
    public double Clip { get; init; } = 0.2;
    /// <summary>Divide the correctness reward by #L, so shorter correct reasoning earns more.</summary>
    public bool LengthPenalty { get; init; } = true;
    /// <summary>Average the loss over every latent and answer token of the mini-batch (on: the paper's setting;
    /// off: sum per rollout, then average over rollouts — the "w/o average" ablation, which drifts to long chains).</summary>
    public bool AveragePerToken { get; init; } = true;
    /// <summary>The speed prompted during rollouts ("(Thinking speed: c)").</summary>
    public int Compression { get; init; } = 1;
    /// <summary>Scale of the latent head's std when sampling latents.</summary>
    public double LatentTemperature { get; init; } = 1.0;
    /// <summary>Temperature of the sampled stop decisions and answer tokens.</summary>
    public double TokenTemperature { get; init; } = 1.0;
    /// <summary>Weight of the latent-head entropy bonus (0: off).</summary>
    public double EntropyWeight { get; init; }
    /// <summary>Group-normalisation epsilon: (r - mean) / (std + eps).</summary>
    public double AdvantageEpsilon { get; init; } = 1e-4;
    public int Seed { get; init; }
    public int CheckpointEvery { get; init; } = 20;
    public int LogEvery { get; init; } = 1;
}
