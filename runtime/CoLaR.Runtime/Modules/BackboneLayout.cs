namespace CoLaR.Modules;

/// <summary>One tensor a backbone's checkpoint holds: its Hugging Face name and shape.</summary>
public sealed record TensorSlot(string Name, long[] Shape)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The tensors of a backbone checkpoint, computed from the spec alone (no module is built): the same names
/// and shapes, in the same order, as the generated <see cref="Backbone.CheckpointTensors"/> yields (a test
/// holds the two together). The importer checks a Hugging Face checkpoint against it before reading any data.
/// </summary>
public static class BackboneLayout
{
    public static IReadOnlyList<TensorSlot> Expected(BackboneConfig c)
    {
        var list = new List<TensorSlot>();
        void Add(string name, params long[] shape) => list.Add(new TensorSlot(name, shape));
        long h = c.Hidden, q = (long)c.Heads * c.HeadDim, kv = (long)c.KvHeads * c.HeadDim, i = c.Intermediate, v = c.Vocab;
        if (c.Family == BackboneFamily.Gpt2)
        {
            // Conv1D weights are stored [in, out].
            Add("transformer.wte.weight", v, h);
            Add("transformer.wpe.weight", c.MaxPositions, h);
            for (int l = 0; l < c.Layers; l++)
            {
                var p = $"transformer.h.{l}.";
                Add(p + "ln_1.weight", h); Add(p + "ln_1.bias", h);
                Add(p + "attn.c_attn.weight", h, 3 * q); Add(p + "attn.c_attn.bias", 3 * q);
                Add(p + "attn.c_proj.weight", q, h); Add(p + "attn.c_proj.bias", h);
                Add(p + "ln_2.weight", h); Add(p + "ln_2.bias", h);
                Add(p + "mlp.c_fc.weight", h, i); Add(p + "mlp.c_fc.bias", i);
                Add(p + "mlp.c_proj.weight", i, h); Add(p + "mlp.c_proj.bias", h);
            }
            Add("transformer.ln_f.weight", h); Add("transformer.ln_f.bias", h);
        }
        else
        {
            Add("model.embed_tokens.weight", v, h);
            for (int l = 0; l < c.Layers; l++)
            {
                var p = $"model.layers.{l}.";
                Add(p + "input_layernorm.weight", h);
                Add(p + "self_attn.q_proj.weight", q, h);
                Add(p + "self_attn.k_proj.weight", kv, h);
                Add(p + "self_attn.v_proj.weight", kv, h);
                if (c.Family == BackboneFamily.Qwen2)
                {
                    Add(p + "self_attn.q_proj.bias", q);
                    Add(p + "self_attn.k_proj.bias", kv);
                    Add(p + "self_attn.v_proj.bias", kv);
                }
                if (c.Family == BackboneFamily.Qwen3)
                {
                    Add(p + "self_attn.q_norm.weight", c.HeadDim);
                    Add(p + "self_attn.k_norm.weight", c.HeadDim);
                }
                Add(p + "self_attn.o_proj.weight", h, q);
                Add(p + "post_attention_layernorm.weight", h);
                Add(p + "mlp.gate_proj.weight", i, h);
                Add(p + "mlp.up_proj.weight", i, h);
                Add(p + "mlp.down_proj.weight", h, i);
            }
            Add("model.norm.weight", h);
        }
        if (!c.TieEmbeddings) Add("lm_head.weight", v, h);
        return list;
    }

    /// <summary>The token-embedding table's name: <c>model.embed_tokens.weight</c> or <c>transformer.wte.weight</c>.</summary>
    public static string EmbeddingName(BackboneFamily family) =>
        family == BackboneFamily.Gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";

    /// <summary>The separate LM head's name (present only without tied embeddings).</summary>
    public const string LmHeadName = "lm_head.weight";
}
