using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Training;

/// <summary>A batch of encoded samples; each objective lays it out its own way.</summary>
public sealed record SftBatch(IReadOnlyList<EncodedSample> Samples);

/// <summary>
/// What an objective needs besides the batch. All randomness comes from <see cref="Random"/> and
/// <see cref="Generator"/>, which the trainer derives from (seed, step), so a resumed run draws the same.
/// </summary>
public sealed class SftContext
{
    public required PromptLayout Layout { get; init; }
    public required Device Device { get; init; }
    /// <summary>The compression factor of this batch (CoLaR draws it per batch; 1 elsewhere).</summary>
    public int Compression { get; init; } = 1;
    /// <summary>Write "(Thinking speed: auto)" instead of the factor.</summary>
    public bool AutoSpeed { get; init; }
    /// <summary>The curriculum stage (iCoT, Coconut): leading steps removed or replaced.</summary>
    public int Stage { get; init; }
    /// <summary>For choices made on the CPU (which token labels a compressed group).</summary>
    public required Random Random { get; init; }
    /// <summary>For sampling on the device (reparameterised latents).</summary>
    public Generator? Generator { get; init; }
}

/// <summary>An objective's value: the total to backpropagate and each term, for logging.</summary>
public sealed record SftLoss(Tensor Total, IReadOnlyDictionary<string, double> Terms);
