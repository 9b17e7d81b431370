namespace CoLaR.Training;

/// <summary>
/// Options of a supervised fine-tuning run. Every randomness in a run is a function of
/// (<see cref="Seed"/>, step), so a resumed run draws exactly what an uninterrupted one would.
/// </summary>
public sealed record SftOptions
{
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Samples per step.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak learning rate (AdamW).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>AdamW decoupled weight decay (TorchSharp's default is 0; PyTorch's 0.01).</summary>
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Gradient-norm clip (0 turns clipping off).</summary>
    public double GradientClip { get; init; } = 1.0;
    /// <summary>Linear warm-up steps, then cosine decay to <see cref="MinLearningRateRatio"/> × peak.</summary>
    public int WarmupSteps { get; init; } = 50;
    public double MinLearningRateRatio { get; init; } = 0.1;
    /// <summary>Seed of data order, compression draws, labels and latent samples.</summary>
    public int Seed { get; init; }
    /// <summary>Save a resumable checkpoint every N steps (and at the end).</summary>
    public int CheckpointEvery { get; init; } = 200;
    /// <summary>Write metrics every N steps.</summary>
    public int LogEvery { get; init; } = 10;
    /// <summary>A non-finite loss or gradient: stop (default, naming the step and loss terms) or skip the batch and count it.</summary>
    public bool SkipNonFinite { get; init; }
    /// <summary>Force one compression factor instead of drawing it per batch (CoLaR); null draws from the spec's range.</summary>
    public int? Compression { get; init; }

    /// <summary>Refuses values no run can use, naming the option as it is written in a config (<c>checkpoint_every</c>).</summary>
    /// <exception cref="Runs.ConfigException">An option is out of its range.</exception>
    public void Validate()
    {
        Runs.RunConfig.Require(Steps >= 1, "steps", Steps, "at least 1");
        Runs.RunConfig.Require(BatchSize >= 1, "batch_size", BatchSize, "at least 1");
        Runs.RunConfig.Require(LearningRate > 0 && double.IsFinite(LearningRate), "learning_rate", LearningRate, "a positive number");
        Runs.RunConfig.Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), "weight_decay", WeightDecay, "0 or more");
        Runs.RunConfig.Require(Beta1 is >= 0 and < 1, "beta1", Beta1, "in [0, 1)");
        Runs.RunConfig.Require(Beta2 is >= 0 and < 1, "beta2", Beta2, "in [0, 1)");
        Runs.RunConfig.Require(GradientClip >= 0 && double.IsFinite(GradientClip), "gradient_clip", GradientClip, "0 (off) or more");
        Runs.RunConfig.Require(WarmupSteps >= 0, "warmup_steps", WarmupSteps, "0 or more");
        Runs.RunConfig.Require(MinLearningRateRatio is >= 0 and <= 1, "min_learning_rate_ratio", MinLearningRateRatio, "in [0, 1]");
        Runs.RunConfig.Require(CheckpointEvery >= 1, "checkpoint_every", CheckpointEvery, "at least 1");
        Runs.RunConfig.Require(LogEvery >= 1, "log_every", LogEvery, "at least 1");
        if (Compression is { } c) Runs.RunConfig.Require(c >= 1, "compression", c, "at least 1");
    }
}
