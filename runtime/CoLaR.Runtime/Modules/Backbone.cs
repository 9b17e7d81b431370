using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoLaR.Modules;

/// <summary>
/// What every generated backbone offers the runtime: token embedding, a forward over input
/// embeddings (so latent vectors can be fed in place of tokens), the LM head, and its tensors under
/// the family's checkpoint names.
/// </summary>
public abstract class Backbone : nn.Module
{
    protected Backbone(string name) : base(name) { }

    /// <summary>The spec's sizes.</summary>
    public abstract BackboneConfig Config { get; }

    /// <summary>Token ids [B, T] → input embeddings [B, T, Hidden].</summary>
    public abstract Tensor Embed(Tensor inputIds);

    /// <summary>
    /// Input embeddings [B, T, Hidden] → last hidden states [B, T, Hidden] (after the final norm).
    /// <paramref name="attentionMask"/> is [B, S] over every position the queries may see, cached ones
    /// included (S = cache length + T); <paramref name="positionIds"/> is [B, T].
    /// </summary>
    public abstract Tensor Forward(Tensor inputsEmbeds, Tensor attentionMask, Tensor positionIds, KvCache? cache = null);

    /// <summary>Hidden states [.., Hidden] → logits [.., Vocab].</summary>
    public abstract Tensor Logits(Tensor hidden);

    /// <summary>The token-embedding table [Vocab, Hidden] (CoLaR's embeds_std is its std).</summary>
    public abstract Tensor EmbeddingTable { get; }

    /// <summary>
    /// Every weight under its Hugging Face checkpoint name, as views of this module's parameters: fused
    /// projections appear as their separate q/k/v and gate/up slices, GPT-2's Conv1D weights transposed.
    /// Reading a view reads the weight; copying into one (under no_grad) loads it.
    /// </summary>
    public abstract IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors();

    /// <summary>A fresh KV cache sized for this backbone.</summary>
    public KvCache NewCache() => new(Config.Layers);

    /// <summary>GPT-2/Llama-style initialisation: N(0, 0.02) for weights, zeros for biases, ones for norms.</summary>
    protected void InitializeWeights(double std = 0.02)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("bias", StringComparison.Ordinal)) p.zero_();
            else if (p.dim() == 1) p.fill_(1.0);
            else p.normal_(0, std);
        }
    }
}
