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
    /// <summary>
    /// Exploration floor on the latent policy's std (embeds_std units; 0: off). Rollouts sample, and the loss scores,
    /// latents from N(mean, max(std, floor)): a head whose std has collapsed (MSE-trained) then still explores, and its
    /// mean's gradient is bounded by 1/floor instead of 1/std. Evaluation is unaffected: it samples from the head itself.
    /// </summary>
    public double LatentStdFloor { get; init; }
    /// <summary>Temperature of the sampled stop decisions and answer tokens.</summary>
    public double TokenTemperature { get; init; } = 1.0;
    /// <summary>
    /// Include the sampled latents' log-probabilities in the policy loss (on: the paper's setting). Turn it
    /// off for a head whose std has collapsed (MSE-trained, colar-method.md quirk 5): its latents are then a
    /// deterministic function of the context, their log-prob gradients are noise scaled by 1/std, and GRPO
    /// is left to the stop decisions and the answer tokens. Always off for a deterministic head.
    /// </summary>
    public bool LatentLogProbs { get; init; } = true;
    /// <summary>
    /// Credit every stop decision: besides the ### that ended the latents, each earlier decision to go on
    /// reasoning (log(1 − p(###)) at every latent position) is part of the loss, so a long rollout with a
    /// negative advantage raises p(###) where it could have stopped. Off: only the final ### is credited, as
    /// in the reference (colar-method.md quirk 7).
    /// </summary>
    public bool CreditContinue { get; init; } = true;
    /// <summary>Weight of the latent-head entropy bonus (0: off).</summary>
    public double EntropyWeight { get; init; }
    /// <summary>Group-normalisation epsilon: (r - mean) / (std + eps).</summary>
    public double AdvantageEpsilon { get; init; } = 1e-4;
    public int Seed { get; init; }
    public int CheckpointEvery { get; init; } = 20;
    public int LogEvery { get; init; } = 1;

    /// <summary>Throws a <see cref="Runs.ConfigException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        Runs.RunConfig.Require(Steps >= 1, "steps", Steps, "at least 1");
        Runs.RunConfig.Require(Questions >= 1, "questions", Questions, "at least 1");
        Runs.RunConfig.Require(GroupSize >= 2, "group_size", GroupSize, "at least 2 (advantages compare rollouts within a group)");
        Runs.RunConfig.Require(MiniBatch >= 1, "mini_batch", MiniBatch, "at least 1");
        Runs.RunConfig.Require(UpdateEpochs >= 1, "update_epochs", UpdateEpochs, "at least 1");
        Runs.RunConfig.Require(LearningRate > 0 && double.IsFinite(LearningRate), "learning_rate", LearningRate, "a positive number");
        Runs.RunConfig.Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), "weight_decay", WeightDecay, "0 or more");
        Runs.RunConfig.Require(GradientClip >= 0 && double.IsFinite(GradientClip), "gradient_clip", GradientClip, "0 (off) or more");
        Runs.RunConfig.Require(Clip > 0 && Clip < 1, "clip", Clip, "in (0, 1)");
        Runs.RunConfig.Require(Compression >= 1, "compression", Compression, "at least 1");
        Runs.RunConfig.Require(LatentTemperature >= 0 && double.IsFinite(LatentTemperature), "latent_temperature", LatentTemperature, "0 or more");
        Runs.RunConfig.Require(LatentStdFloor >= 0 && double.IsFinite(LatentStdFloor), "latent_std_floor", LatentStdFloor, "0 (off) or more");
        Runs.RunConfig.Require(TokenTemperature > 0 && double.IsFinite(TokenTemperature), "token_temperature", TokenTemperature, "a positive number");
        Runs.RunConfig.Require(EntropyWeight >= 0 && double.IsFinite(EntropyWeight), "entropy_weight", EntropyWeight, "0 or more");
        Runs.RunConfig.Require(AdvantageEpsilon > 0 && double.IsFinite(AdvantageEpsilon), "advantage_epsilon", AdvantageEpsilon, "a positive number");
        Runs.RunConfig.Require(CheckpointEvery >= 1, "checkpoint_every", CheckpointEvery, "at least 1");
        Runs.RunConfig.Require(LogEvery >= 1, "log_every", LogEvery, "at least 1");
    }
}
