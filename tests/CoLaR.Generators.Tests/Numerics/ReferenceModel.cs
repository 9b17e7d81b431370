using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Generators.Tests.Numerics;

/// <summary>
/// A straightforward transformer written from the Hugging Face model definitions, reading weights by
/// their checkpoint names: separate q/k/v (and GPT-2's [in, out] Conv1D weights), explicit softmax
/// attention with a causal + padding mask, RMSNorm / LayerNorm / RoPE / GELU written out. It shares no
/// code with the generated modules or the runtime (Rope, RmsNorm, AttentionOps).
/// </summary>
public sealed class ReferenceModel(BackboneConfig config, IReadOnlyDictionary<string, Tensor> weights)
{
    Tensor W(string name) => weights[name];

    /// <summary>Position ids of a left-padded batch: 0, 1, 2, … from each row's first real token.</summary>
    public static Tensor Positions(Tensor mask)
    {
        var m = mask.to(ScalarType.Int64);
        return (m.cumsum(1) - 1).clamp_min(0);
    }

    /// <summary>Token ids [B, T], mask [B, T] (1 = real) → (final hidden [B, T, H], logits [B, T, V]).</summary>
    public (Tensor Hidden, Tensor Logits) Run(Tensor ids, Tensor mask)
    {
        var positions = Positions(mask);
        var h = W(config.Family == BackboneFamily.Gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight").index_select(0, ids.flatten())
            .view(ids.shape[0], ids.shape[1], config.Hidden);
        h = config.Family == BackboneFamily.Gpt2 ? Gpt2(h, positions, mask) : Rotary(h, positions, mask);
        var head = config.TieEmbeddings
            ? W(config.Family == BackboneFamily.Gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight")
            : W("lm_head.weight");
        return (h, h.matmul(head.t()));
    }

    // ---------------------------------------------------------------- Llama / Qwen2 / Qwen3

    Tensor Rotary(Tensor h, Tensor positions, Tensor mask)
    {
        int heads = config.Heads, kvHeads = config.KvHeads, d = config.HeadDim;
        long b = h.shape[0], t = h.shape[1];
        var (cos, sin) = RopeTables(positions);                                   // [B, 1, T, D]
        for (int i = 0; i < config.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            var x = RmsNorm(h, W(p + "input_layernorm.weight"));
            var q = Linear(x, W(p + "self_attn.q_proj.weight"), Bias(p + "self_attn.q_proj.bias")).view(b, t, heads, d);
            var k = Linear(x, W(p + "self_attn.k_proj.weight"), Bias(p + "self_attn.k_proj.bias")).view(b, t, kvHeads, d);
            var v = Linear(x, W(p + "self_attn.v_proj.weight"), Bias(p + "self_attn.v_proj.bias")).view(b, t, kvHeads, d);
            if (config.Family == BackboneFamily.Qwen3)
            {
                q = RmsNorm(q, W(p + "self_attn.q_norm.weight"));
                k = RmsNorm(k, W(p + "self_attn.k_norm.weight"));
            }
            q = q.transpose(1, 2); k = k.transpose(1, 2); v = v.transpose(1, 2);     // [B, heads, T, D]
            q = q * cos + RotateHalf(q) * sin;
            k = k * cos + RotateHalf(k) * sin;
            // Grouped-query attention: query head j reads key/value head j / (heads / kvHeads).
            var index = torch.tensor(Enumerable.Range(0, heads).Select(j => (long)(j / (heads / kvHeads))).ToArray());
            k = k.index_select(1, index); v = v.index_select(1, index);
            var y = Attention(q, k, v, mask).transpose(1, 2).reshape(b, t, heads * d);
            h = h + Linear(y, W(p + "self_attn.o_proj.weight"), null);
            x = RmsNorm(h, W(p + "post_attention_layernorm.weight"));
            var gate = Linear(x, W(p + "mlp.gate_proj.weight"), null);
            var up = Linear(x, W(p + "mlp.up_proj.weight"), null);
            h = h + Linear(gate * torch.sigmoid(gate) * up, W(p + "mlp.down_proj.weight"), null);
        }
        return RmsNorm(h, W("model.norm.weight"));
    }

    Tensor? Bias(string name) => weights.TryGetValue(name, out var bias) ? bias : null;

    /// <summary>x / sqrt(mean(x²) + eps) · w over the last dimension.</summary>
    Tensor RmsNorm(Tensor x, Tensor w)
    {
        var meanSquare = (x * x).mean(new long[] { -1 }, keepdim: true);
        return x / torch.sqrt(meanSquare + config.NormEps) * w;
    }

    /// <summary>cos and sin of position · inverse frequency, the D/2 frequencies repeated twice (HF layout), [B, 1, T, D].</summary>
    (Tensor Cos, Tensor Sin) RopeTables(Tensor positions)
    {
        int d = config.HeadDim;
        var inverse = new double[d / 2];
        for (int i = 0; i < d / 2; i++)
        {
            double f = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / d);
            if (config.RopeScaling is { } s)
            {
                // transformers' _compute_llama3_parameters.
                double wavelength = 2 * Math.PI / f;
                double lowWavelength = s.OriginalMaxPositions / s.LowFreqFactor, highWavelength = s.OriginalMaxPositions / s.HighFreqFactor;
                if (wavelength > lowWavelength) f /= s.Factor;
                else if (!(wavelength < highWavelength))
                {
                    double smooth = (s.OriginalMaxPositions / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    f = (1 - smooth) * f / s.Factor + smooth * f;
                }
            }
            inverse[i] = f;
        }
        var inv = torch.tensor(inverse.Select(x => (float)x).ToArray());
        var angles = positions.to(ScalarType.Float32).unsqueeze(-1) * inv;    // [B, T, D/2]
        var both = torch.cat(new[] { angles, angles }, -1).unsqueeze(1);             // [B, 1, T, D]
        return (both.cos(), both.sin());
    }

    static Tensor RotateHalf(Tensor x)
    {
        long half = x.shape[^1] / 2;
        return torch.cat(new[] { -x.narrow(-1, half, half), x.narrow(-1, 0, half) }, -1);
    }

    // ---------------------------------------------------------------- GPT-2

    Tensor Gpt2(Tensor h, Tensor positions, Tensor mask)
    {
        int heads = config.Heads, d = config.HeadDim, hidden = config.Hidden;
        long b = h.shape[0], t = h.shape[1];
        h = h + W("transformer.wpe.weight").index_select(0, positions.flatten()).view(b, t, hidden);
        for (int i = 0; i < config.Layers; i++)
        {
            string p = $"transformer.h.{i}.";
            var x = LayerNorm(h, W(p + "ln_1.weight"), W(p + "ln_1.bias"));
            // Conv1D: x @ W + b with W stored [in, out].
            var qkv = x.matmul(W(p + "attn.c_attn.weight")) + W(p + "attn.c_attn.bias");
            var q = qkv.narrow(-1, 0, hidden).view(b, t, heads, d).transpose(1, 2);
            var k = qkv.narrow(-1, hidden, hidden).view(b, t, heads, d).transpose(1, 2);
            var v = qkv.narrow(-1, 2 * hidden, hidden).view(b, t, heads, d).transpose(1, 2);
            var y = Attention(q, k, v, mask).transpose(1, 2).reshape(b, t, hidden);
            h = h + y.matmul(W(p + "attn.c_proj.weight")) + W(p + "attn.c_proj.bias");
            x = LayerNorm(h, W(p + "ln_2.weight"), W(p + "ln_2.bias"));
            var inner = GeluTanh(x.matmul(W(p + "mlp.c_fc.weight")) + W(p + "mlp.c_fc.bias"));
            h = h + inner.matmul(W(p + "mlp.c_proj.weight")) + W(p + "mlp.c_proj.bias");
        }
        return LayerNorm(h, W("transformer.ln_f.weight"), W("transformer.ln_f.bias"));
    }

    /// <summary>(x − mean) / sqrt(biased variance + eps) · w + b.</summary>
    Tensor LayerNorm(Tensor x, Tensor w, Tensor bias)
    {
        var mean = x.mean(new long[] { -1 }, keepdim: true);
        var centered = x - mean;
        var variance = (centered * centered).mean(new long[] { -1 }, keepdim: true);
        return centered / torch.sqrt(variance + config.NormEps) * w + bias;
    }

    /// <summary>GPT-2's "gelu_new": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    static Tensor GeluTanh(Tensor x) => 0.5 * x * (1 + torch.tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    // ---------------------------------------------------------------- shared

    static Tensor Linear(Tensor x, Tensor w, Tensor? bias) => bias is null ? x.matmul(w.t()) : x.matmul(w.t()) + bias;

    /// <summary>
    /// softmax(q·kᵀ/√D + mask)·v. Query i sees key j when j ≤ i and j is a real token; a padding query
    /// sees itself only (its row would otherwise be empty), which keeps every value finite.
    /// </summary>
    static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor mask)
    {
        long t = q.shape[2], s = k.shape[2];
        var scores = q.matmul(k.transpose(2, 3)) / Math.Sqrt(q.shape[^1]);        // [B, H, T, S]
        var queryPosition = torch.arange(s - t, s).view(t, 1);                      // the T queries are the last T positions
        var keyPosition = torch.arange(0, s).view(1, s);
        var earlier = (keyPosition < queryPosition).unsqueeze(0);                   // [1, T, S]
        var itself = (keyPosition == queryPosition).unsqueeze(0);
        var real = mask.to(ScalarType.Bool).unsqueeze(1);                          // [B, 1, S]
        var allowed = ((earlier & real) | itself).unsqueeze(1);                     // [B, 1, T, S]
        scores = scores.masked_fill(allowed.logical_not(), double.NegativeInfinity);
        var max = scores.amax(new long[] { -1 }, keepdim: true);
        var e = torch.exp(scores - max);
        var weights = e / e.sum(new long[] { -1 }, keepdim: true);
        return weights.matmul(v);
    }
}
