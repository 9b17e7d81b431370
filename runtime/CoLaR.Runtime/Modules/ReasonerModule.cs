using CoLaR.Inference;
using CoLaR.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Modules;

/// <summary>
/// The base of every generated reasoner: a backbone plus the pieces its spec declares (latent head,
/// merger, projector). The generator overrides what the spec has and picks the SFT objective and the
/// inference loop; a user may override <see cref="ComputeSftLoss"/> or <see cref="Generate"/> in the
/// partial class to build a variant the attributes cannot express (docs/spec-language.md, "Extension points").
/// </summary>
public abstract class ReasonerModule : nn.Module
{
    protected ReasonerModule(string name) : base(name) { }

    /// <summary>The spec this module was generated from.</summary>
    public abstract ReasonerSpec Specification { get; }

    /// <summary>The transformer.</summary>
    public abstract Backbone Backbone { get; }

    /// <summary>
    /// embeds_std: the std of the token-embedding table, fixed when latent training starts (targets
    /// and fed-back latents are scaled by it) and saved with the checkpoint. NaN until set.
    /// </summary>
    public double EmbedsStd { get; set; } = double.NaN;

    /// <summary>Sets <see cref="EmbedsStd"/> from the current embedding table, unless already set.</summary>
    public double EnsureEmbedsStd()
    {
        if (double.IsNaN(EmbedsStd))
        {
            using var noGrad = torch.no_grad();
            EmbedsStd = Backbone.EmbeddingTable.std().ToDouble();
        }
        return EmbedsStd;
    }

    /// <summary>The latent head: hidden [.., H] → distribution over the next compressed embedding / embeds_std.</summary>
    public virtual LatentDistribution PredictLatent(Tensor hidden) => throw NotDeclared("[LatentHead]");

    /// <summary>The compression merger: groups [N, c, H] and real-token mask [N, c] → merged embeddings [N, H].</summary>
    public virtual Tensor MergeGroups(Tensor groups, Tensor realMask) => throw NotDeclared("[CompressionMerger]");

    /// <summary>Continuous thoughts: last hidden state [.., H] → next input embedding [.., H] (identity without a projector).</summary>
    public virtual Tensor ProjectThought(Tensor hidden) => hidden.alias();

    /// <summary>The SFT loss of this spec on a batch.</summary>
    public abstract SftLoss ComputeSftLoss(SftBatch batch, SftContext context);

    /// <summary>Answers a batch of questions.</summary>
    public abstract GenerationResult Generate(GenerationRequest request);

    /// <summary>
    /// The checkpoint the frozen backbone weights of a LoRA model were loaded from (set when they are), or null.
    /// While it is set, checkpoints hold only the trainable tensors — adapters and heads, as in the reference —
    /// and name this file as their base (<c>colar.base</c>), which loading reads first.
    /// </summary>
    public BaseCheckpoint? Base { get; set; }

    /// <summary>True when checkpoints of this model hold only its trainable tensors (a LoRA model with a <see cref="Base"/>).</summary>
    public bool SavesTrainableOnly => Backbone.Lora is not null && Base is not null;

    /// <summary>
    /// Every saved tensor: the backbone's under checkpoint names, its LoRA adapters under PEFT-style names, then the
    /// heads' under their module paths. A LoRA model with a <see cref="Base"/> leaves the frozen backbone weights out.
    /// </summary>
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors() => CheckpointTensors(SavesTrainableOnly);

    /// <summary>The saved tensors, with (<paramref name="trainableOnly"/> = false) or without the frozen backbone weights.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors(bool trainableOnly)
    {
        if (!trainableOnly)
            foreach (var entry in Backbone.CheckpointTensors()) yield return entry;
        foreach (var entry in Backbone.LoraTensors()) yield return entry;
        foreach (var (name, parameter) in named_parameters())
            if (!name.StartsWith("backbone.", StringComparison.Ordinal)) yield return (name, parameter);
    }

    NotSupportedException NotDeclared(string what) =>
        new($"{Specification.Name} declares no {what}; this method ({Specification.Method}) does not use one");
}

/// <summary>Where a LoRA model's frozen weights came from: the file and the SHA-256 of its data (<c>colar.sha256</c>; empty when it has none).</summary>
public sealed record BaseCheckpoint(string Path, string Sha256);
