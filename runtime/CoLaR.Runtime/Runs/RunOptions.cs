using CoLaR.Data;

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
    /// <summary>
    /// Training records with empty reasoning (<c>question|| #### answer</c>): an error naming the file and line (default),
    /// skip them, or keep them as answer-only samples. Evaluation always keeps them.
    /// </summary>
    public EmptyReasoning EmptyReasoning { get; init; } = EmptyReasoning.Error;
    /// <summary>Intra-op CPU threads for libtorch (0: libtorch's default, one per core).</summary>
    public int Threads { get; init; }

    /// <summary>Refuses values no run can use, naming the option.</summary>
    /// <exception cref="ConfigException">An option is out of its range.</exception>
    public void Validate()
    {
        RunConfig.Require(MaxSamples >= 0, "max_samples", MaxSamples, "0 (all) or more");
        RunConfig.Require(Threads >= 0, "threads", Threads, "0 (libtorch's default) or more");
        RunConfig.Require(Enum.IsDefined(TooLong), "too_long", TooLong, "reject, skip or truncate");
        RunConfig.Require(Enum.IsDefined(EmptyReasoning), "empty_reasoning", EmptyReasoning, "keep, skip or error");
        RunConfig.Require(Enum.IsDefined(Precision), "precision", Precision, "auto, fp32 or bf16");
    }
}
