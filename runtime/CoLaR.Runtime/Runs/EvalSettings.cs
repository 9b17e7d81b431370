namespace CoLaR.Runs;

/// <summary>
/// The options of <c>colar eval</c> and <c>colar infer</c>, bindable from a JSON config file and <c>key=value</c>
/// overrides like the training options (<see cref="RunConfig"/>); device, precision and threads come from
/// <see cref="RunOptions"/>. The effective values are printed at start, and <c>eval</c> saves them as
/// <c>config.json</c> in its output folder.
/// </summary>
public sealed record EvalSettings
{
    /// <summary>Speeds to prompt (eval: every one; infer: the first). Default: every c the model was trained for (infer: 1).</summary>
    public int[]? Compression { get; init; }
    /// <summary>Repetitions with different random streams.</summary>
    public int Seeds { get; init; } = 3;
    /// <summary>Base seed of the random streams.</summary>
    public int Seed { get; init; }
    /// <summary>Evaluate the first N questions only (0: all).</summary>
    public int Limit { get; init; }
    /// <summary>Answer decoding: greedy, or top-p (0.9, T = 1, as in the paper).</summary>
    public string Decoding { get; init; } = "greedy";
    /// <summary>Latent sampling temperature (0: the mean).</summary>
    public double LatentTemperature { get; init; } = 1.0;
    /// <summary>Questions answered together.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>A reasoning budget: stop every row after at most this many latent (or CoT) steps and answer (0: the model's own cap).</summary>
    public int MaxLatents { get; init; }
    /// <summary>At most this many answer tokens, EOS included (0: the model's own cap, its spec's MaxAnswerTokens).</summary>
    public int MaxAnswerTokens { get; init; }
    /// <summary>Dataset name in the results (default: the data file's folder or name).</summary>
    public string? Dataset { get; init; }
    /// <summary>
    /// The declared model to run the checkpoint as. Needed for an imported backbone (<c>colar import</c>), which has
    /// no heads; with a checkpoint of another spec, its backbone is used. Default: the spec the checkpoint names.
    /// </summary>
    public string? Model { get; init; }

    /// <summary>Throws a <see cref="ConfigException"/> naming the first option out of range (before any model is loaded).</summary>
    public void Validate()
    {
        RunConfig.Require(Compression is null || Compression.All(c => c >= 1), "compression", Compression is null ? "" : string.Join(",", Compression), "1 or more");
        RunConfig.Require(Seeds >= 1, "seeds", Seeds, "at least 1");
        RunConfig.Require(Limit >= 0, "limit", Limit, "0 (all) or more");
        RunConfig.Require(LatentTemperature >= 0, "latent_temperature", LatentTemperature, "0 (the mean) or more");
        RunConfig.Require(BatchSize >= 1, "batch_size", BatchSize, "at least 1");
        RunConfig.Require(MaxLatents >= 0, "max_latents", MaxLatents, "0 (the model's own cap) or more");
        RunConfig.Require(MaxAnswerTokens >= 0, "max_answer_tokens", MaxAnswerTokens, "0 (the model's own cap) or more");
    }
}
