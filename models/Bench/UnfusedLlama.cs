using CoLaR.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CoLaR.Models.Bench;

/// <summary>
/// The baseline of <c>fused_speedup</c>: the Llama math of a generated backbone written the way a
/// TorchSharp user would write it by hand from the Hugging Face modeling file — separate q/k/v and
/// gate/up projections, attention as matmul → mask → softmax → matmul, and no dispose scopes (no
/// <c>using</c>, no scope: every temporary is left to the garbage collector, as in most TorchSharp
/// samples). Its parameters carry the checkpoint names, so a generated backbone's
/// <see cref="Backbone.CheckpointTensors"/> copy straight in.
/// </summary>
public sealed class UnfusedLlama : nn.Module
{
    readonly BackboneConfig _config;
    readonly Decoder model;
    readonly Tensor _inverseFrequencies;

    public UnfusedLlama(BackboneConfig config) : base("UnfusedLlama")
    {
        if (config.Family != BackboneFamily.Llama || !config.TieEmbeddings)
            throw new ArgumentException("the unfused baseline is written for tied-embedding Llama backbones");
        _config = config;
        model = new Decoder(config);
        var inv = Rope.InverseFrequencies(config.HeadDim, config.RopeTheta, config.RopeScaling).Select(f => (float)f).ToArray();
        _inverseFrequencies = torch.tensor(inv);
        RegisterComponents();
    }

    public BackboneConfig Config => _config;

    /// <summary>Copies every weight of <paramref name="fused"/> (by checkpoint name) into this module.</summary>
    public void CopyFrom(Backbone fused)
    {
        var mine = named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in fused.CheckpointTensors())
            mine[name].copy_(tensor);
    }

    /// <summary>Token ids [B, T] and a [B, T] attention mask → logits [B, T, Vocab].</summary>
    public Tensor Forward(Tensor inputIds, Tensor attentionMask)
    {
        long b = inputIds.shape[0], t = inputIds.shape[1];
        var x = model.embed_tokens.forward(inputIds);

        // Rotary tables for these positions.
        var positions = (attentionMask.cumsum(1) - 1).clamp_min(0);
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * _inverseFrequencies;
        var angles = torch.cat(new[] { freqs, freqs }, -1).unsqueeze(1);
        var cos = angles.cos();
        var sin = angles.sin();

        // Causal + padding mask, each query always seeing itself; additive form for the softmax.
        var causal = torch.ones(t, t, dtype: ScalarType.Bool).tril();
        var self = torch.eye(t, dtype: ScalarType.Bool);
        var allowed = (causal.unsqueeze(0) & attentionMask.to(ScalarType.Bool).unsqueeze(1)) | self.unsqueeze(0);
        var bias = torch.zeros(b, 1, t, t).masked_fill(allowed.unsqueeze(1).logical_not(), float.NegativeInfinity);

        foreach (var layer in model.layers)
            x = layer.Forward(x, cos, sin, bias);
        x = model.norm.forward(x);
        return x.matmul(model.embed_tokens.weight!.t());
    }

    sealed class Decoder : nn.Module
    {
        internal readonly Embedding embed_tokens;
        internal readonly ModuleList<Layer> layers;
        internal readonly Norm norm;

        public Decoder(BackboneConfig c) : base("model")
        {
            embed_tokens = nn.Embedding(c.Vocab, c.Hidden);
            layers = nn.ModuleList(Enumerable.Range(0, c.Layers).Select(_ => new Layer(c)).ToArray());
            norm = new Norm(c.Hidden, c.NormEps);
            RegisterComponents();
        }
    }

    sealed class Layer : nn.Module
    {
        internal readonly Norm input_layernorm, post_attention_layernorm;
        internal readonly Attention self_attn;
        internal readonly Mlp mlp;

        public Layer(BackboneConfig c) : base("layer")
        {
            input_layernorm = new Norm(c.Hidden, c.NormEps);
            self_attn = new Attention(c);
            post_attention_layernorm = new Norm(c.Hidden, c.NormEps);
            mlp = new Mlp(c);
            RegisterComponents();
        }

        public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor bias)
        {
            var h = x + self_attn.Forward(input_layernorm.forward(x), cos, sin, bias);
            return h + mlp.forward(post_attention_layernorm.forward(h));
        }
    }

    sealed class Attention : nn.Module
    {
        internal readonly Linear q_proj, k_proj, v_proj, o_proj;
        readonly int _heads, _kvHeads, _headDim;

        public Attention(BackboneConfig c) : base("self_attn")
        {
            _heads = c.Heads; _kvHeads = c.KvHeads; _headDim = c.HeadDim;
            q_proj = nn.Linear(c.Hidden, c.Heads * c.HeadDim, hasBias: false);
            k_proj = nn.Linear(c.Hidden, c.KvHeads * c.HeadDim, hasBias: false);
            v_proj = nn.Linear(c.Hidden, c.KvHeads * c.HeadDim, hasBias: false);
            o_proj = nn.Linear(c.Heads * c.HeadDim, c.Hidden, hasBias: false);
            RegisterComponents();
        }

        public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor bias)
        {
            long b = x.shape[0], t = x.shape[1];
            var q = q_proj.forward(x).view(b, t, _heads, _headDim).transpose(1, 2);
            var k = k_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
            var v = v_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
            q = q * cos + RotateHalf(q) * sin;
            k = k * cos + RotateHalf(k) * sin;
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
            var scores = q.matmul(k.transpose(2, 3)) / Math.Sqrt(_headDim) + bias;
            var probs = F.softmax(scores, -1);
            var y = probs.matmul(v).transpose(1, 2).reshape(b, t, _heads * _headDim);
            return o_proj.forward(y);
        }

        static Tensor RotateHalf(Tensor x)
        {
            long half = x.shape[^1] / 2;
            return torch.cat(new[] { -x.narrow(-1, half, half), x.narrow(-1, 0, half) }, -1);
        }
    }

    sealed class Mlp : nn.Module<Tensor, Tensor>
    {
        internal readonly Linear gate_proj, up_proj, down_proj;

        public Mlp(BackboneConfig c) : base("mlp")
        {
            gate_proj = nn.Linear(c.Hidden, c.Intermediate, hasBias: false);
            up_proj = nn.Linear(c.Hidden, c.Intermediate, hasBias: false);
            down_proj = nn.Linear(c.Intermediate, c.Hidden, hasBias: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => down_proj.forward(F.silu(gate_proj.forward(x)) * up_proj.forward(x));
    }

    sealed class Norm : nn.Module<Tensor, Tensor>
    {
        internal readonly Parameter weight;
        readonly double _eps;

        public Norm(long size, double eps) : base("norm")
        {
            weight = new Parameter(torch.ones(size));
            _eps = eps;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => weight * (x * torch.rsqrt(x.pow(2).mean(new long[] { -1 }, keepdim: true) + _eps));
    }
}
