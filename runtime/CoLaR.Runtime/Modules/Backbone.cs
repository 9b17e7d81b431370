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

    // ------------------------------------------------------------------ LoRA

    readonly List<LoraAdapter> _adapters = new();

    /// <summary>The LoRA options in force (set by <see cref="AddLora"/>), or null for a fully trainable backbone.</summary>
    public LoraOptions? Lora { get; private set; }

    /// <summary>The adapters <see cref="AddLora"/> added, in layer order.</summary>
    public IReadOnlyList<LoraAdapter> LoraAdapters => _adapters;

    /// <summary>
    /// Freezes every weight of the backbone (<c>requires_grad = false</c>) and adds low-rank adapters to the
    /// projections <paramref name="options"/> targets; called once, by the constructor of a reasoner that declares [Lora].
    /// </summary>
    public void AddLora(LoraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Lora is not null) throw new InvalidOperationException($"{Config.Name} already has LoRA adapters");
        foreach (var p in parameters()) p.requires_grad = false;
        Lora = options;
        AddLoraAdapters(options);
    }

    /// <summary>Adds one <see cref="LoraAdapter"/> per targeted projection of every layer (generated; uses <see cref="Attach"/>).</summary>
    protected virtual void AddLoraAdapters(LoraOptions options) =>
        throw new NotSupportedException($"{GetType().Name} does not support LoRA adapters");

    /// <summary>
    /// Creates an adapter for <paramref name="target"/> whose output is split into up to three parts (fused Q/K/V,
    /// gate/up), registers it in <paramref name="owner"/> as <paramref name="field"/>, and returns it.
    /// </summary>
    protected LoraAdapter Attach(nn.Module owner, string field, Linear target, LoraOptions options, LoraPart first, LoraPart? second = null, LoraPart? third = null)
    {
        var parts = new[] { first, second, third }.Where(p => p is not null).Select(p => p!.Value).ToArray();
        var adapter = new LoraAdapter(target, options, parts);
        owner.register_module(field, adapter);
        _adapters.Add(adapter);
        return adapter;
    }

    /// <summary>Every adapter tensor under its PEFT-style name (<c>model.layers.0.self_attn.q_proj.lora_A.weight</c>), as views.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> LoraTensors() => _adapters.SelectMany(a => a.CheckpointTensors());

    /// <summary>Folds every adapter into the weight it adapts and zeroes its B (<see cref="LoraAdapter.Merge"/>): same function, merged weights.</summary>
    public void MergeLora()
    {
        foreach (var adapter in _adapters) adapter.Merge();
    }

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
