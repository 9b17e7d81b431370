using System.Collections.Generic;
using System.Globalization;
using CoLaR.Generators.Helpers;
using CoLaR.Generators.Model;

namespace CoLaR.Generators
{
    /// <summary>
    /// Backbone spec → a TorchSharp module. The output reads like a hand-written model file: one nested
    /// class per block, field names equal to the family's checkpoint names, a shape comment on each line
    /// of the forward, and every size inlined as a constant.
    /// </summary>
    internal static partial class Emitter
    {
        /// <summary>
        /// Names the generated backbone declares, or uses unqualified, inside the spec class: a spec class
        /// with one of these names would not compile (COLAR021). Value: what the name is, for the message.
        /// </summary>
        public static readonly IReadOnlyDictionary<string, string> BackboneNames = Names(
            ("a nested class", new[] { "Decoder", "DecoderLayer", "Block", "SelfAttention", "Mlp" }),
            ("a member", new[] { "Vocab", "Hidden", "Layers", "Heads", "KvHeads", "HeadDim", "Intermediate", "MaxPositions", "QSize", "KvSize",
                "KvGroups", "Spec", "Config", "EmbeddingTable", "Embed", "Forward", "Logits", "CheckpointTensors", "AddLoraAdapters", "Attach", "model", "transformer",
                "lm_head", "rope" }),
            ("a TorchSharp name", TorchSharpNames));

        /// <summary>Type and namespace names the generated code uses unqualified (a property: static initialisers in partial files run in no set order).</summary>
        private static string[] TorchSharpNames =>
            new[] { "Tensor", "Linear", "Embedding", "LayerNorm", "ModuleList", "F", "nn", "torch", "TorchSharp", "Enumerable", "IEnumerable" };

        private static IReadOnlyDictionary<string, string> Names(params (string What, string[] Names)[] groups)
        {
            var result = new Dictionary<string, string>(System.StringComparer.Ordinal);
            foreach (var (what, names) in groups)
                foreach (var name in names)
                    result[name] = what;
            return result;
        }

        public static string Backbone(BackboneSpec s)
        {
            var w = new SourceWriter();
            Header(w, s.Namespace, FamilyAttribute(s.Family), s.ClassName);
            using (s.Namespace.Length > 0 ? w.Block("namespace " + s.Namespace) : null)
            {
                w.Line("/// <summary>" + Describe(s) + "</summary>");
                using (w.Block("partial class " + s.ClassName + " : global::CoLaR.Modules.Backbone"))
                {
                    BackboneConstants(w, s);
                    if (s.Family == Family.Gpt2) Gpt2(w, s); else Rotary(w, s);
                }
            }
            return w.ToString();
        }

        private static string FamilyAttribute(Family family) => family.ToString();

        private static string Describe(BackboneSpec s)
        {
            string heads = s.KvHeads == s.Heads
                ? $"{s.Heads} heads of {s.HeadDim}"
                : $"{s.Heads} query / {s.KvHeads} key-value heads of {s.HeadDim}";
            string mlp = s.Family == Family.Gpt2 ? $"GELU MLP {s.Intermediate}" : $"SwiGLU MLP {s.Intermediate}";
            string extra = s.Family switch
            {
                Family.Qwen2 => ", Q/K/V biases",
                Family.Qwen3 => ", QK-norm",
                _ => "",
            };
            return $"{s.Family} backbone: {s.Layers} layers, hidden {s.Hidden}, {heads}, {mlp}{extra}, vocabulary {s.Vocab}, " +
                   (s.TieEmbeddings ? "tied embeddings." : "separate LM head.");
        }

        private static void BackboneConstants(SourceWriter w, BackboneSpec s)
        {
            w.Line("// Sizes from the spec: constants, so both the reader and the JIT see them.");
            w.Line($"public const int Vocab = {s.Vocab};");
            w.Line($"public const int Hidden = {s.Hidden};");
            w.Line($"public const int Layers = {s.Layers};");
            w.Line($"public const int Heads = {s.Heads};");
            w.Line($"public const int KvHeads = {s.KvHeads};");
            w.Line($"public const int HeadDim = {s.HeadDim};");
            w.Line($"public const int Intermediate = {s.Intermediate};");
            w.Line($"public const int MaxPositions = {s.MaxPositions};");
            w.Line($"private const int QSize = Heads * HeadDim;      // {s.QSize}");
            w.Line($"private const int KvSize = KvHeads * HeadDim;   // {s.KvSize}");
            if (s.KvGroups > 1) w.Line($"private const int KvGroups = Heads / KvHeads;   // {s.KvGroups} query heads share each key/value head");
            w.Line();
            w.Line("/// <summary>The spec as data, for the runtime (checkpoint checks, config matching, FLOP counts).</summary>");
            w.Line("public static global::CoLaR.Modules.BackboneConfig Spec { get; } = new(");
            w.Indent();
            w.Line($"Name: {Literal.String(s.ClassName)}, Family: global::CoLaR.Modules.BackboneFamily.{s.Family},");
            w.Line($"Vocab: Vocab, Hidden: Hidden, Layers: Layers, Heads: Heads, KvHeads: KvHeads, HeadDim: HeadDim,");
            bool scaled = s.HasRope && s.RopeScaling != 0;
            w.Line($"Intermediate: Intermediate, MaxPositions: MaxPositions, NormEps: {Literal.Double(s.NormEps)}, TieEmbeddings: {Literal.Bool(s.TieEmbeddings)}" +
                   (s.HasRope ? $", RopeTheta: {Literal.Double(s.RopeTheta)}" : "") + (scaled ? "," : ");"));
            if (scaled)
                w.Line($"RopeScaling: new(Factor: {Literal.Double(s.RopeScaling)}, LowFreqFactor: {Literal.Double(s.RopeLowFreqFactor)}, " +
                       $"HighFreqFactor: {Literal.Double(s.RopeHighFreqFactor)}, OriginalMaxPositions: {s.RopeOriginalMaxPositions}));");
            w.Outdent();
            w.Line();
            w.Line("public override global::CoLaR.Modules.BackboneConfig Config => Spec;");
            w.Line();
        }

        // ---------------------------------------------------------------- Llama, Qwen2, Qwen3

        private static void Rotary(SourceWriter w, BackboneSpec s)
        {
            bool qkvBias = s.Family == Family.Qwen2, qkNorm = s.Family == Family.Qwen3;
            string eps = Literal.Double(s.NormEps);
            string scaling = s.RopeScaling != 0
                ? $"new global::CoLaR.Modules.RopeScaling({Literal.Double(s.RopeScaling)}, {Literal.Double(s.RopeLowFreqFactor)}, {Literal.Double(s.RopeHighFreqFactor)}, {s.RopeOriginalMaxPositions})"
                : "null";

            w.Lines($$"""
                // Weights. Field names are the Hugging Face checkpoint names ("model.layers.0.mlp.down_proj.weight").
                private readonly Decoder model;
                {{(s.TieEmbeddings ? "// No lm_head: the LM head reuses model.embed_tokens.weight (tied embeddings)." : "private readonly Linear lm_head;")}}

                // Rotary tables: derived from the spec, not weights, so not saved.
                private readonly global::CoLaR.Modules.Rope rope = new(HeadDim, {{Literal.Double(s.RopeTheta)}}, {{scaling}});

                public {{s.ClassName}}() : base(nameof({{s.ClassName}}))
                {
                    model = new Decoder();
                {{(s.TieEmbeddings ? "" : "    lm_head = nn.Linear(Hidden, Vocab, hasBias: false);\n")}}    RegisterComponents();
                    InitializeWeights();
                }

                public override Tensor EmbeddingTable => model.embed_tokens.weight!;

                /// <summary>Token ids [B, T] → embeddings [B, T, {{s.Hidden}}].</summary>
                public override Tensor Embed(Tensor inputIds) => model.embed_tokens.forward(inputIds);

                /// <summary>Input embeddings [B, T, {{s.Hidden}}] → final hidden states [B, T, {{s.Hidden}}].</summary>
                public override Tensor Forward(Tensor inputsEmbeds, Tensor attentionMask, Tensor positionIds, global::CoLaR.Modules.KvCache? cache = null)
                {
                    using var scope = torch.NewDisposeScope();
                    var (cos, sin) = rope.CosSin(positionIds, inputsEmbeds.dtype);                          // [B, 1, T, {{s.HeadDim}}] each
                    var mask = global::CoLaR.Modules.AttentionOps.CausalPaddingMask(attentionMask, inputsEmbeds.shape[1]); // [B, 1, T, S]
                    var x = inputsEmbeds;                                                                     // [B, T, {{s.Hidden}}]
                    for (int i = 0; i < Layers; i++)
                        x = model.layers[i].forward(x, cos, sin, mask, cache, i);                            // [B, T, {{s.Hidden}}]
                    return model.norm.forward(x).MoveToOuterDisposeScope();                                   // [B, T, {{s.Hidden}}]
                }

                /// <summary>Hidden states [.., {{s.Hidden}}] → logits [.., {{s.Vocab}}].</summary>
                public override Tensor Logits(Tensor hidden) => {{(s.TieEmbeddings ? "F.linear(hidden, model.embed_tokens.weight!)" : "lm_head.forward(hidden)")}};

                public override IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors()
                {
                    yield return ("model.embed_tokens.weight", model.embed_tokens.weight!);
                    for (int i = 0; i < Layers; i++)
                    {
                        var layer = model.layers[i];
                        var p = $"model.layers.{i}.";
                        yield return (p + "input_layernorm.weight", layer.input_layernorm.weight);
                        // The fused Q/K/V projection, as the three tensors checkpoints store.
                        var qkv = layer.self_attn.qkv_proj.weight!;
                        yield return (p + "self_attn.q_proj.weight", qkv.narrow(0, 0, QSize));
                        yield return (p + "self_attn.k_proj.weight", qkv.narrow(0, QSize, KvSize));
                        yield return (p + "self_attn.v_proj.weight", qkv.narrow(0, QSize + KvSize, KvSize));
                """);
            if (qkvBias)
                w.Lines("""
                            var qkvBias = layer.self_attn.qkv_proj.bias!;
                            yield return (p + "self_attn.q_proj.bias", qkvBias.narrow(0, 0, QSize));
                            yield return (p + "self_attn.k_proj.bias", qkvBias.narrow(0, QSize, KvSize));
                            yield return (p + "self_attn.v_proj.bias", qkvBias.narrow(0, QSize + KvSize, KvSize));
                    """);
            if (qkNorm)
                w.Lines("""
                            yield return (p + "self_attn.q_norm.weight", layer.self_attn.q_norm.weight);
                            yield return (p + "self_attn.k_norm.weight", layer.self_attn.k_norm.weight);
                    """);
            w.Lines($$"""
                        yield return (p + "self_attn.o_proj.weight", layer.self_attn.o_proj.weight!);
                        yield return (p + "post_attention_layernorm.weight", layer.post_attention_layernorm.weight);
                        // The fused gate/up projection, as gate_proj and up_proj.
                        var gateUp = layer.mlp.gate_up_proj.weight!;
                        yield return (p + "mlp.gate_proj.weight", gateUp.narrow(0, 0, Intermediate));
                        yield return (p + "mlp.up_proj.weight", gateUp.narrow(0, Intermediate, Intermediate));
                        yield return (p + "mlp.down_proj.weight", layer.mlp.down_proj.weight!);
                    }
                    yield return ("model.norm.weight", model.norm.weight);
                {{(s.TieEmbeddings ? "" : "    yield return (\"lm_head.weight\", lm_head.weight!);\n")}}}

                /// <summary>[Lora] on a reasoner: an adapter on each targeted projection of every layer (Q/K/V and gate/up stay fused).</summary>
                protected override void AddLoraAdapters(global::CoLaR.Modules.LoraOptions lora)
                {
                    for (int i = 0; i < Layers; i++)
                    {
                        var attn = model.layers[i].self_attn;
                        var mlp = model.layers[i].mlp;
                        var p = $"model.layers.{i}.";
                        if (lora.Q || lora.K || lora.V)
                            attn.qkv_lora = Attach(attn, "qkv_lora", attn.qkv_proj, lora,
                                new(p + "self_attn.q_proj", QSize, lora.Q), new(p + "self_attn.k_proj", KvSize, lora.K), new(p + "self_attn.v_proj", KvSize, lora.V));
                        if (lora.O) attn.o_lora = Attach(attn, "o_lora", attn.o_proj, lora, new(p + "self_attn.o_proj", Hidden, true));
                        if (lora.Gate || lora.Up)
                            mlp.gate_up_lora = Attach(mlp, "gate_up_lora", mlp.gate_up_proj, lora,
                                new(p + "mlp.gate_proj", Intermediate, lora.Gate), new(p + "mlp.up_proj", Intermediate, lora.Up));
                        if (lora.Down) mlp.down_lora = Attach(mlp, "down_lora", mlp.down_proj, lora, new(p + "mlp.down_proj", Hidden, true));
                    }
                }

                /// <summary>"model": token embeddings, the decoder layers, the final norm.</summary>
                private sealed class Decoder : nn.Module
                {
                    internal readonly Embedding embed_tokens = nn.Embedding(Vocab, Hidden);
                    internal readonly ModuleList<DecoderLayer> layers = nn.ModuleList(Enumerable.Range(0, Layers).Select(_ => new DecoderLayer()).ToArray());
                    internal readonly global::CoLaR.Modules.RmsNorm norm = new(Hidden, {{eps}});

                    public Decoder() : base("model") => RegisterComponents();
                }

                /// <summary>Pre-norm block: x + attention(norm(x)), then x + mlp(norm(x)).</summary>
                private sealed class DecoderLayer : nn.Module
                {
                    internal readonly global::CoLaR.Modules.RmsNorm input_layernorm = new(Hidden, {{eps}});
                    internal readonly SelfAttention self_attn = new();
                    internal readonly global::CoLaR.Modules.RmsNorm post_attention_layernorm = new(Hidden, {{eps}});
                    internal readonly Mlp mlp = new();

                    public DecoderLayer() : base("layer") => RegisterComponents();

                    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, global::CoLaR.Modules.KvCache? cache, int index)
                    {
                        x = x + self_attn.forward(input_layernorm.forward(x), cos, sin, mask, cache, index); // [B, T, {{s.Hidden}}]
                        return x + mlp.forward(post_attention_layernorm.forward(x));                         // [B, T, {{s.Hidden}}]
                    }
                }

                /// <summary>Self-attention: one fused Q/K/V matmul, {{(qkNorm ? "RMSNorm on each query and key head, " : "")}}RoPE, {{(s.KvGroups > 1 ? "grouped-query heads, " : "")}}SDPA, KV cache.</summary>
                private sealed class SelfAttention : nn.Module
                {
                    internal readonly Linear qkv_proj = nn.Linear(Hidden, QSize + 2 * KvSize, hasBias: {{Literal.Bool(qkvBias)}});
                    internal readonly Linear o_proj = nn.Linear(QSize, Hidden, hasBias: false);
                    internal global::CoLaR.Modules.LoraAdapter? qkv_lora, o_lora;   // LoRA adapters, when a reasoner declares [Lora]
                """);
            if (qkNorm)
                w.Lines($$"""
                        internal readonly global::CoLaR.Modules.RmsNorm q_norm = new(HeadDim, {{eps}});
                        internal readonly global::CoLaR.Modules.RmsNorm k_norm = new(HeadDim, {{eps}});
                    """);
            w.Lines($$"""

                    public SelfAttention() : base("self_attn") => RegisterComponents();

                    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, global::CoLaR.Modules.KvCache? cache, int index)
                    {
                        long b = x.shape[0], t = x.shape[1];
                        var qkv = qkv_proj.forward(x);                                                 // [B, T, {{s.QSize + 2 * s.KvSize}}]
                        if (qkv_lora is not null) qkv = qkv + qkv_lora.forward(x);                     // + LoRA update
                        var parts = qkv.split(new long[] { QSize, KvSize, KvSize }, -1);               // views of q | k | v (backward: one concatenation)
                        var q = parts[0].view(b, t, Heads, HeadDim);                                   // [B, T, {{s.Heads}}, {{s.HeadDim}}]
                        var k = parts[1].view(b, t, KvHeads, HeadDim);                                 // [B, T, {{s.KvHeads}}, {{s.HeadDim}}]
                        var v = parts[2].view(b, t, KvHeads, HeadDim);                                 // [B, T, {{s.KvHeads}}, {{s.HeadDim}}]
                """);
            if (qkNorm)
                w.Lines($$"""
                            q = q_norm.forward(q);                                                         // [B, T, {{s.Heads}}, {{s.HeadDim}}], RMSNorm per head
                            k = k_norm.forward(k);                                                         // [B, T, {{s.KvHeads}}, {{s.HeadDim}}], RMSNorm per head
                    """);
            w.Lines($$"""
                        q = global::CoLaR.Modules.Rope.Apply(q.transpose(1, 2), cos, sin);             // [B, {{s.Heads}}, T, {{s.HeadDim}}]
                        k = global::CoLaR.Modules.Rope.Apply(k.transpose(1, 2), cos, sin);             // [B, {{s.KvHeads}}, T, {{s.HeadDim}}]
                        v = v.transpose(1, 2);                                                         // [B, {{s.KvHeads}}, T, {{s.HeadDim}}]
                        if (cache is not null) (k, v) = cache.Append(index, k, v);                     // [B, {{s.KvHeads}}, S, {{s.HeadDim}}]
                """);
            if (s.KvGroups > 1)
                w.Lines($$"""
                            k = global::CoLaR.Modules.AttentionOps.RepeatKv(k, KvGroups);                  // [B, {{s.Heads}}, S, {{s.HeadDim}}]
                            v = global::CoLaR.Modules.AttentionOps.RepeatKv(v, KvGroups);                  // [B, {{s.Heads}}, S, {{s.HeadDim}}]
                    """);
            w.Lines($$"""
                        var y = global::CoLaR.Modules.AttentionOps.Sdpa(q, k, v, mask);                // [B, {{s.Heads}}, T, {{s.HeadDim}}]
                        var heads = y.transpose(1, 2).reshape(b, t, QSize);                            // [B, T, {{s.QSize}}]
                        var output = o_proj.forward(heads);                                            // [B, T, {{s.Hidden}}]
                        return o_lora is null ? output : output + o_lora.forward(heads);               // + LoRA update
                    }
                }

                /// <summary>SwiGLU MLP: down(silu(gate(x)) * up(x)), gate and up in one matmul.</summary>
                private sealed class Mlp : nn.Module<Tensor, Tensor>
                {
                    internal readonly Linear gate_up_proj = nn.Linear(Hidden, 2 * Intermediate, hasBias: false);
                    internal readonly Linear down_proj = nn.Linear(Intermediate, Hidden, hasBias: false);
                    internal global::CoLaR.Modules.LoraAdapter? gate_up_lora, down_lora;   // LoRA adapters, when a reasoner declares [Lora]

                    public Mlp() : base("mlp") => RegisterComponents();

                    public override Tensor forward(Tensor x)
                    {
                        var gateUp = gate_up_proj.forward(x);                                          // [B, T, {{2 * s.Intermediate}}]
                        if (gate_up_lora is not null) gateUp = gateUp + gate_up_lora.forward(x);       // + LoRA update
                        var halves = gateUp.chunk(2, -1);                                              // views of gate | up (backward: one concatenation)
                        var gate = halves[0];                                                          // [B, T, {{s.Intermediate}}]
                        var up = halves[1];                                                            // [B, T, {{s.Intermediate}}]
                        var inner = F.silu(gate) * up;                                                 // [B, T, {{s.Intermediate}}]
                        var output = down_proj.forward(inner);                                         // [B, T, {{s.Hidden}}]
                        return down_lora is null ? output : output + down_lora.forward(inner);         // + LoRA update
                    }
                }
                """);
        }

        // ---------------------------------------------------------------- GPT-2

        private static void Gpt2(SourceWriter w, BackboneSpec s)
        {
            string eps = Literal.Double(s.NormEps);
            w.Lines($$"""
                // Weights. Field names are the Hugging Face checkpoint names ("transformer.h.0.attn.c_attn.weight").
                private readonly Decoder transformer;
                {{(s.TieEmbeddings ? "// No lm_head: the LM head reuses transformer.wte.weight (tied embeddings)." : "private readonly Linear lm_head;")}}

                public {{s.ClassName}}() : base(nameof({{s.ClassName}}))
                {
                    transformer = new Decoder();
                {{(s.TieEmbeddings ? "" : "    lm_head = nn.Linear(Hidden, Vocab, hasBias: false);\n")}}    RegisterComponents();
                    InitializeWeights();
                }

                public override Tensor EmbeddingTable => transformer.wte.weight!;

                /// <summary>Token ids [B, T] → embeddings [B, T, {{s.Hidden}}] (positions are added in <see cref="Forward"/>).</summary>
                public override Tensor Embed(Tensor inputIds) => transformer.wte.forward(inputIds);

                /// <summary>Input embeddings [B, T, {{s.Hidden}}] → final hidden states [B, T, {{s.Hidden}}].</summary>
                public override Tensor Forward(Tensor inputsEmbeds, Tensor attentionMask, Tensor positionIds, global::CoLaR.Modules.KvCache? cache = null)
                {
                    using var scope = torch.NewDisposeScope();
                    var mask = global::CoLaR.Modules.AttentionOps.CausalPaddingMask(attentionMask, inputsEmbeds.shape[1]); // [B, 1, T, S]
                    var x = inputsEmbeds + transformer.wpe.forward(positionIds);                             // [B, T, {{s.Hidden}}]
                    for (int i = 0; i < Layers; i++)
                        x = transformer.h[i].forward(x, mask, cache, i);                                    // [B, T, {{s.Hidden}}]
                    return transformer.ln_f.forward(x).MoveToOuterDisposeScope();                            // [B, T, {{s.Hidden}}]
                }

                /// <summary>Hidden states [.., {{s.Hidden}}] → logits [.., {{s.Vocab}}].</summary>
                public override Tensor Logits(Tensor hidden) => {{(s.TieEmbeddings ? "F.linear(hidden, transformer.wte.weight!)" : "lm_head.forward(hidden)")}};

                public override IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors()
                {
                    // GPT-2 checkpoints store Conv1D weights as [in, out]: the transpose of ours.
                    yield return ("transformer.wte.weight", transformer.wte.weight!);
                    yield return ("transformer.wpe.weight", transformer.wpe.weight!);
                    for (int i = 0; i < Layers; i++)
                    {
                        var block = transformer.h[i];
                        var p = $"transformer.h.{i}.";
                        yield return (p + "ln_1.weight", block.ln_1.weight!);
                        yield return (p + "ln_1.bias", block.ln_1.bias!);
                        yield return (p + "attn.c_attn.weight", block.attn.c_attn.weight!.t());
                        yield return (p + "attn.c_attn.bias", block.attn.c_attn.bias!);
                        yield return (p + "attn.c_proj.weight", block.attn.c_proj.weight!.t());
                        yield return (p + "attn.c_proj.bias", block.attn.c_proj.bias!);
                        yield return (p + "ln_2.weight", block.ln_2.weight!);
                        yield return (p + "ln_2.bias", block.ln_2.bias!);
                        yield return (p + "mlp.c_fc.weight", block.mlp.c_fc.weight!.t());
                        yield return (p + "mlp.c_fc.bias", block.mlp.c_fc.bias!);
                        yield return (p + "mlp.c_proj.weight", block.mlp.c_proj.weight!.t());
                        yield return (p + "mlp.c_proj.bias", block.mlp.c_proj.bias!);
                    }
                    yield return ("transformer.ln_f.weight", transformer.ln_f.weight!);
                    yield return ("transformer.ln_f.bias", transformer.ln_f.bias!);
                {{(s.TieEmbeddings ? "" : "    yield return (\"lm_head.weight\", lm_head.weight!);\n")}}}

                /// <summary>[Lora] on a reasoner: an adapter on each targeted projection of every block. GPT-2 has one c_attn for Q, K and V,
                /// adapted as a whole (as PEFT does), and no gate projection (Gate adapts nothing).</summary>
                protected override void AddLoraAdapters(global::CoLaR.Modules.LoraOptions lora)
                {
                    if ((lora.Q || lora.K || lora.V) && !(lora.Q && lora.K && lora.V))
                        throw new System.NotSupportedException("GPT-2 fuses Q, K and V in c_attn, which LoRA adapts as a whole: target all of Q, K and V, or none");
                    for (int i = 0; i < Layers; i++)
                    {
                        var attn = transformer.h[i].attn;
                        var mlp = transformer.h[i].mlp;
                        var p = $"transformer.h.{i}.";
                        if (lora.Q) attn.c_attn_lora = Attach(attn, "c_attn_lora", attn.c_attn, lora, new(p + "attn.c_attn", 3 * QSize, true));
                        if (lora.O) attn.c_proj_lora = Attach(attn, "c_proj_lora", attn.c_proj, lora, new(p + "attn.c_proj", Hidden, true));
                        if (lora.Up) mlp.c_fc_lora = Attach(mlp, "c_fc_lora", mlp.c_fc, lora, new(p + "mlp.c_fc", Intermediate, true));
                        if (lora.Down) mlp.c_proj_lora = Attach(mlp, "c_proj_lora", mlp.c_proj, lora, new(p + "mlp.c_proj", Hidden, true));
                    }
                }

                /// <summary>"transformer": token and position embeddings, the blocks, the final LayerNorm.</summary>
                private sealed class Decoder : nn.Module
                {
                    internal readonly Embedding wte = nn.Embedding(Vocab, Hidden);
                    internal readonly Embedding wpe = nn.Embedding(MaxPositions, Hidden);
                    internal readonly ModuleList<Block> h = nn.ModuleList(Enumerable.Range(0, Layers).Select(_ => new Block()).ToArray());
                    internal readonly LayerNorm ln_f = nn.LayerNorm(Hidden, {{eps}});

                    public Decoder() : base("transformer") => RegisterComponents();
                }

                /// <summary>Pre-norm block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
                private sealed class Block : nn.Module
                {
                    internal readonly LayerNorm ln_1 = nn.LayerNorm(Hidden, {{eps}});
                    internal readonly SelfAttention attn = new();
                    internal readonly LayerNorm ln_2 = nn.LayerNorm(Hidden, {{eps}});
                    internal readonly Mlp mlp = new();

                    public Block() : base("block") => RegisterComponents();

                    public Tensor forward(Tensor x, Tensor mask, global::CoLaR.Modules.KvCache? cache, int index)
                    {
                        x = x + attn.forward(ln_1.forward(x), mask, cache, index);                  // [B, T, {{s.Hidden}}]
                        return x + mlp.forward(ln_2.forward(x));                                     // [B, T, {{s.Hidden}}]
                    }
                }

                /// <summary>Self-attention: one fused Q/K/V matmul (c_attn), SDPA, KV cache.</summary>
                private sealed class SelfAttention : nn.Module
                {
                    internal readonly Linear c_attn = nn.Linear(Hidden, 3 * QSize, hasBias: true);
                    internal readonly Linear c_proj = nn.Linear(QSize, Hidden, hasBias: true);
                    internal global::CoLaR.Modules.LoraAdapter? c_attn_lora, c_proj_lora;   // LoRA adapters, when a reasoner declares [Lora]

                    public SelfAttention() : base("attn") => RegisterComponents();

                    public Tensor forward(Tensor x, Tensor mask, global::CoLaR.Modules.KvCache? cache, int index)
                    {
                        long b = x.shape[0], t = x.shape[1];
                        var qkv = c_attn.forward(x);                                                   // [B, T, {{3 * s.QSize}}]
                        if (c_attn_lora is not null) qkv = qkv + c_attn_lora.forward(x);               // + LoRA update
                        var parts = qkv.split(QSize, -1);                                              // views of q | k | v (backward: one concatenation)
                        var q = parts[0].view(b, t, Heads, HeadDim).transpose(1, 2);                   // [B, {{s.Heads}}, T, {{s.HeadDim}}]
                        var k = parts[1].view(b, t, Heads, HeadDim).transpose(1, 2);                   // [B, {{s.Heads}}, T, {{s.HeadDim}}]
                        var v = parts[2].view(b, t, Heads, HeadDim).transpose(1, 2);                   // [B, {{s.Heads}}, T, {{s.HeadDim}}]
                        if (cache is not null) (k, v) = cache.Append(index, k, v);                     // [B, {{s.Heads}}, S, {{s.HeadDim}}]
                        var y = global::CoLaR.Modules.AttentionOps.Sdpa(q, k, v, mask);                // [B, {{s.Heads}}, T, {{s.HeadDim}}]
                        var heads = y.transpose(1, 2).reshape(b, t, QSize);                            // [B, T, {{s.QSize}}]
                        var output = c_proj.forward(heads);                                            // [B, T, {{s.Hidden}}]
                        return c_proj_lora is null ? output : output + c_proj_lora.forward(heads);     // + LoRA update
                    }
                }

                /// <summary>MLP: c_proj(gelu_tanh(c_fc(x))).</summary>
                private sealed class Mlp : nn.Module<Tensor, Tensor>
                {
                    internal readonly Linear c_fc = nn.Linear(Hidden, Intermediate, hasBias: true);
                    internal readonly Linear c_proj = nn.Linear(Intermediate, Hidden, hasBias: true);
                    internal global::CoLaR.Modules.LoraAdapter? c_fc_lora, c_proj_lora;   // LoRA adapters, when a reasoner declares [Lora]

                    public Mlp() : base("mlp") => RegisterComponents();

                    public override Tensor forward(Tensor x)
                    {
                        var fc = c_fc.forward(x);                                                      // [B, T, {{s.Intermediate}}]
                        if (c_fc_lora is not null) fc = fc + c_fc_lora.forward(x);                     // + LoRA update
                        var inner = F.gelu(fc, TorchSharp.Modules.GELU.Approximate.tanh);              // [B, T, {{s.Intermediate}}]
                        var output = c_proj.forward(inner);                                            // [B, T, {{s.Hidden}}]
                        return c_proj_lora is null ? output : output + c_proj_lora.forward(inner);     // + LoRA update
                    }
                }
                """);
        }

        // ---------------------------------------------------------------- shared

        private static void Header(SourceWriter w, string ns, string attribute, string className)
        {
            w.Line("// <auto-generated>");
            w.Line($"//   Generated by CoLaR.Generators from [{attribute}] on {className}.");
            w.Line("//   Do not edit: change the attribute and rebuild.");
            w.Line("// </auto-generated>");
            w.Line("#nullable enable");
            w.Line("#pragma warning disable CS8618, IDE1006 // field names follow checkpoint names");
            w.Line();
            w.Line("using System.Collections.Generic;");
            w.Line("using System.Linq;");
            w.Line("using TorchSharp;");
            w.Line("using TorchSharp.Modules;");
            w.Line("using static TorchSharp.torch;");
            w.Line("using F = TorchSharp.torch.nn.functional;");
            w.Line();
        }

        internal static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    }
}
