using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Generators.Tests.Numerics;

/// <summary>Loads libtorch once (the runtime's loader copes with an old libstdc++).</summary>
public sealed class TorchFixture
{
    public TorchFixture()
    {
        // The loader must map its bridge before TorchSharp's static constructor probes for it (that probe
        // does not consult DllImport resolvers). main's TorchNative does this itself; on a runtime without
        // that fix, take the same step here. Harmless where it is already done (LoadBridge is idempotent).
        CoLaR.Native.TorchNative.Install();
        typeof(CoLaR.Native.TorchNative).GetMethod("LoadBridge", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
            ?.Invoke(null, null);
        CoLaR.Native.TorchNative.EnsureLoaded();
    }
}

[CollectionDefinition("torch")]
public sealed class TorchCollection : ICollectionFixture<TorchFixture>;

/// <summary>
/// The generated backbones (Numerics/NumericSpecs.cs, generated while this project builds) against a
/// plain reference: forward and logits with left padding, KV-cache decoding, checkpoint names and views.
/// </summary>
[Collection("torch")]
public class BackboneNumericsTests
{
    const double Tolerance = 1e-5;

    public static TheoryData<string> Families => new() { "Llama", "Qwen2", "Qwen3", "Gpt2", "Gpt2Untied" };

    static Backbone Create(string family) => family switch
    {
        "Llama" => new NumLlama(),
        "Qwen2" => new NumQwen2(),
        "Qwen3" => new NumQwen3(),
        "Gpt2" => new NumGpt2(),
        "Gpt2Untied" => new NumGpt2Untied(),
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    /// <summary>
    /// A backbone whose every weight was written through its checkpoint views with random values (large
    /// enough that attention is far from uniform), and those values by name.
    /// </summary>
    static (Backbone Model, Dictionary<string, Tensor> Weights) Randomised(string family, int seed)
    {
        torch.manual_seed(seed);
        var model = Create(family);
        var weights = new Dictionary<string, Tensor>();
        using (torch.no_grad())
        {
            foreach (var (name, view) in model.CheckpointTensors())
            {
                var value = name.EndsWith("norm.weight") || name.Contains("layernorm") || name.Contains(".ln_")
                    ? name.EndsWith(".bias") ? 0.1 * torch.randn(view.shape) : 1 + 0.1 * torch.randn(view.shape)
                    : name.Contains("embed_tokens") || name.Contains("wte") || name.Contains("wpe") ? torch.randn(view.shape)
                    : name.EndsWith(".bias") ? 0.1 * torch.randn(view.shape)
                    : 0.15 * torch.randn(view.shape);
                view.copy_(value);
                weights[name] = value;
            }
        }
        return (model, weights);
    }

    /// <summary>Three rows, left-padded by 0, 2 and 4 tokens; padding id 0.</summary>
    static (Tensor Ids, Tensor Mask) Batch(int vocab, int length = 7)
    {
        var ids = torch.randint(1, vocab, [3, length], dtype: ScalarType.Int64);
        var mask = torch.ones(3, length, dtype: ScalarType.Int64);
        mask.narrow(0, 1, 1).narrow(1, 0, 2).fill_(0);
        mask.narrow(0, 2, 1).narrow(1, 0, 4).fill_(0);
        return (ids * mask, mask);
    }

    static double MaxDifferenceOnRealTokens(Tensor a, Tensor b, Tensor mask)
    {
        var real = mask.to(ScalarType.Bool).unsqueeze(-1);
        return (a - b).abs().masked_select(real).max().ToDouble();
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Forward_and_logits_match_the_reference_with_left_padding(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, weights) = Randomised(family, seed: 1);
        var (ids, mask) = Batch(model.Config.Vocab);
        using var noGrad = torch.no_grad();

        var hidden = model.Forward(model.Embed(ids), mask, ReferenceModel.Positions(mask));
        var logits = model.Logits(hidden);
        var (refHidden, refLogits) = new ReferenceModel(model.Config, weights).Run(ids, mask);

        Assert.Equal(new long[] { 3, 7, model.Config.Hidden }, hidden.shape);
        Assert.Equal(new long[] { 3, 7, model.Config.Vocab }, logits.shape);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.InRange(MaxDifferenceOnRealTokens(hidden, refHidden, mask), 0, Tolerance);
        Assert.InRange(MaxDifferenceOnRealTokens(logits, refLogits, mask), 0, Tolerance);
        // Not a trivial agreement: the logits vary across positions and tokens.
        Assert.True(refLogits.std().ToDouble() > 0.1);
        Assert.False(hidden.isnan().any().ToBoolean());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Left_padding_does_not_change_a_row(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, _) = Randomised(family, seed: 2);
        var (ids, mask) = Batch(model.Config.Vocab);
        using var noGrad = torch.no_grad();
        var batched = model.Forward(model.Embed(ids), mask, ReferenceModel.Positions(mask));
        // Row 2 alone, without its four padding tokens.
        var alone = ids.narrow(0, 2, 1).narrow(1, 4, 3);
        var aloneMask = torch.ones_like(alone);
        var single = model.Forward(model.Embed(alone), aloneMask, ReferenceModel.Positions(aloneMask));
        Assert.InRange((batched.narrow(0, 2, 1).narrow(1, 4, 3) - single).abs().max().ToDouble(), 0, Tolerance);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Kv_cache_decoding_matches_the_full_forward_at_every_position(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, _) = Randomised(family, seed: 3);
        var (ids, mask) = Batch(model.Config.Vocab);
        var positions = ReferenceModel.Positions(mask);
        using var noGrad = torch.no_grad();
        var full = model.Forward(model.Embed(ids), mask, positions);

        const int prompt = 3;
        using var cache = model.NewCache();
        var first = model.Forward(model.Embed(Columns(ids, 0, prompt)), Columns(mask, 0, prompt), Columns(positions, 0, prompt), cache);
        Assert.Equal(prompt, cache.Length);
        Assert.InRange(MaxDifferenceOnRealTokens(first, Columns(full, 0, prompt), Columns(mask, 0, prompt)), 0, Tolerance);
        for (int t = prompt; t < ids.shape[1]; t++)
        {
            // One new token; the mask covers every cached position plus the new one.
            var step = model.Forward(model.Embed(Columns(ids, t, 1)), Columns(mask, 0, t + 1), Columns(positions, t, 1), cache);
            Assert.Equal(t + 1, cache.Length);
            Assert.InRange(MaxDifferenceOnRealTokens(step, Columns(full, t, 1), Columns(mask, t, 1)), 0, Tolerance);
            Assert.InRange(MaxDifferenceOnRealTokens(model.Logits(step), model.Logits(Columns(full, t, 1)), Columns(mask, t, 1)), 0, Tolerance);
        }
    }

    static Tensor Columns(Tensor x, long start, long length) => x.narrow(1, start, length);

    // ---------------------------------------------------------------- checkpoint names and views

    /// <summary>The Hugging Face names and shapes of each family's tensors, written out per family.</summary>
    static List<(string Name, long[] Shape)> HuggingFace(BackboneConfig c)
    {
        long h = c.Hidden, q = c.Heads * c.HeadDim, kv = c.KvHeads * c.HeadDim, i = c.Intermediate, v = c.Vocab;
        var names = new List<(string, long[])>();
        if (c.Family == BackboneFamily.Gpt2)
        {
            names.Add(("transformer.wte.weight", [v, h]));
            names.Add(("transformer.wpe.weight", [c.MaxPositions, h]));
            for (int l = 0; l < c.Layers; l++)
            {
                var p = $"transformer.h.{l}.";
                names.AddRange([
                    (p + "ln_1.weight", [h]), (p + "ln_1.bias", [h]),
                    (p + "attn.c_attn.weight", [h, 3 * h]), (p + "attn.c_attn.bias", [3 * h]),
                    (p + "attn.c_proj.weight", [h, h]), (p + "attn.c_proj.bias", [h]),
                    (p + "ln_2.weight", [h]), (p + "ln_2.bias", [h]),
                    (p + "mlp.c_fc.weight", [h, i]), (p + "mlp.c_fc.bias", [i]),
                    (p + "mlp.c_proj.weight", [i, h]), (p + "mlp.c_proj.bias", [h])]);
            }
            names.Add(("transformer.ln_f.weight", [h]));
            names.Add(("transformer.ln_f.bias", [h]));
        }
        else
        {
            names.Add(("model.embed_tokens.weight", [v, h]));
            for (int l = 0; l < c.Layers; l++)
            {
                var p = $"model.layers.{l}.";
                names.AddRange([
                    (p + "input_layernorm.weight", [h]),
                    (p + "self_attn.q_proj.weight", [q, h]), (p + "self_attn.k_proj.weight", [kv, h]), (p + "self_attn.v_proj.weight", [kv, h]),
                    (p + "self_attn.o_proj.weight", [h, q]),
                    (p + "post_attention_layernorm.weight", [h]),
                    (p + "mlp.gate_proj.weight", [i, h]), (p + "mlp.up_proj.weight", [i, h]), (p + "mlp.down_proj.weight", [h, i])]);
                if (c.Family == BackboneFamily.Qwen2)
                    names.AddRange([(p + "self_attn.q_proj.bias", [q]), (p + "self_attn.k_proj.bias", [kv]), (p + "self_attn.v_proj.bias", [kv])]);
                if (c.Family == BackboneFamily.Qwen3)
                    names.AddRange([(p + "self_attn.q_norm.weight", [c.HeadDim]), (p + "self_attn.k_norm.weight", [c.HeadDim])]);
            }
            names.Add(("model.norm.weight", [h]));
        }
        if (!c.TieEmbeddings) names.Add(("lm_head.weight", [v, h]));
        return names;
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Checkpoint_tensors_have_the_hugging_face_names_and_shapes(string family)
    {
        using var scope = torch.NewDisposeScope();
        var model = Create(family);
        var actual = model.CheckpointTensors().ToList();
        var names = actual.Select(a => a.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        var expected = HuggingFace(model.Config).ToDictionary(e => e.Name, e => e.Shape);
        Assert.Equal(expected.Keys.Order(), names.Order());
        foreach (var (name, tensor) in actual) Assert.True(expected[name].SequenceEqual(tensor.shape), $"{name}: [{string.Join(", ", tensor.shape)}]");
        // Every parameter is covered exactly once (tied embeddings are one table).
        long parameters = model.parameters().Sum(p => p.numel());
        Assert.Equal(parameters, actual.Sum(a => a.Tensor.numel()));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Writing_through_the_checkpoint_views_changes_the_fused_weights(string family)
    {
        using var scope = torch.NewDisposeScope();
        var (model, weights) = Randomised(family, seed: 4);
        var state = model.state_dict();
        var c = model.Config;
        int q = c.Heads * c.HeadDim, kv = c.KvHeads * c.HeadDim;
        // Reading the views back gives what was written.
        foreach (var (name, view) in model.CheckpointTensors())
            Assert.True(view.allclose(weights[name], 0, 0), name);
        // And the fused parameters hold the pieces, in order.
        if (c.Family == BackboneFamily.Gpt2)
        {
            Assert.True(state["transformer.h.0.attn.c_attn.weight"].allclose(weights["transformer.h.0.attn.c_attn.weight"].t(), 0, 0));
            Assert.True(state["transformer.h.0.mlp.c_fc.weight"].allclose(weights["transformer.h.0.mlp.c_fc.weight"].t(), 0, 0));
        }
        else
        {
            var qkv = state["model.layers.1.self_attn.qkv_proj.weight"];
            Assert.True(qkv.narrow(0, 0, q).allclose(weights["model.layers.1.self_attn.q_proj.weight"], 0, 0));
            Assert.True(qkv.narrow(0, q, kv).allclose(weights["model.layers.1.self_attn.k_proj.weight"], 0, 0));
            Assert.True(qkv.narrow(0, q + kv, kv).allclose(weights["model.layers.1.self_attn.v_proj.weight"], 0, 0));
            var gateUp = state["model.layers.1.mlp.gate_up_proj.weight"];
            Assert.True(gateUp.narrow(0, 0, c.Intermediate).allclose(weights["model.layers.1.mlp.gate_proj.weight"], 0, 0));
            Assert.True(gateUp.narrow(0, c.Intermediate, c.Intermediate).allclose(weights["model.layers.1.mlp.up_proj.weight"], 0, 0));
            if (c.Family == BackboneFamily.Qwen2)
                Assert.True(state["model.layers.1.self_attn.qkv_proj.bias"].narrow(0, q, kv).allclose(weights["model.layers.1.self_attn.k_proj.bias"], 0, 0));
        }
        if (c.TieEmbeddings)
        {
            // Tied: the LM head is the embedding table.
            using var noGrad = torch.no_grad();
            var hidden = torch.randn(2, c.Hidden);
            var table = weights[c.Family == BackboneFamily.Gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight"];
            Assert.True(model.Logits(hidden).allclose(hidden.matmul(table.t()), 1e-5, 1e-5));
        }
    }

    [Fact]
    public void Llama3_rope_scaling_changes_the_result()
    {
        // The scaled spec differs from an unscaled reading of the same weights: the scaling is applied, not ignored.
        using var scope = torch.NewDisposeScope();
        var (model, weights) = Randomised("Llama", seed: 5);
        var (ids, mask) = Batch(model.Config.Vocab);
        using var noGrad = torch.no_grad();
        var hidden = model.Forward(model.Embed(ids), mask, ReferenceModel.Positions(mask));
        var unscaled = new ReferenceModel(model.Config with { RopeScaling = null }, weights).Run(ids, mask).Hidden;
        Assert.True(MaxDifferenceOnRealTokens(hidden, unscaled, mask) > 1e-3);
    }
}
