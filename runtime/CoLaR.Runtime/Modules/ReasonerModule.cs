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

    /// <summary>Every saved tensor: the backbone's under checkpoint names, then the heads' under their module paths.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors()
    {
        foreach (var entry in Backbone.CheckpointTensors()) yield return entry;
        foreach (var (name, parameter) in named_parameters())
            if (!name.StartsWith("backbone.", StringComparison.Ordinal)) yield return (name, parameter);
    }

    NotSupportedException NotDeclared(string what) =>
        new($"{Specification.Name} declares no {what}; this method ({Specification.Method}) does not use one");
}
