namespace CoLaR.Runs;

/// <summary>What to do with a sample longer than the model's context.</summary>
public enum TooLongPolicy
{
    /// <summary>Stop before training, naming how many samples are too long and the longest one.</summary>
    Reject,
    /// <summary>Drop such samples, reporting how many.</summary>
    Skip,
    /// <summary>Cut leading reasoning steps until the sample fits, reporting how many were cut.</summary>
    Truncate,
}

/// <summary>Options every run has besides the optimizer's (bindable from a config file or key=value).</summary>
public sealed record RunOptions
{
    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>auto (bf16 on CUDA, fp32 on CPU), fp32, or bf16 (forward and backward in bfloat16, fp32 master weights and losses).</summary>
    public Training.Precision Precision { get; init; } = Training.Precision.Auto;
    /// <summary>Use at most this many training samples (0: all).</summary>
    public int MaxSamples { get; init; }
    /// <summary>Samples longer than the model's MaxPositions: reject (default), skip or truncate.</summary>
    public TooLongPolicy TooLong { get; init; } = TooLongPolicy.Reject;
    /// <summary>Intra-op CPU threads for libtorch (0: libtorch's default, one per core).</summary>
    public int Threads { get; init; }
}
