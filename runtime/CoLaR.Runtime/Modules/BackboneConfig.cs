namespace CoLaR.Modules;

/// <summary>The transformer families a backbone spec can declare.</summary>
public enum BackboneFamily { Llama, Qwen2, Qwen3, Gpt2 }

/// <summary>Llama-3 RoPE frequency scaling (see <see cref="Rope"/>).</summary>
public sealed record RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions);

/// <summary>
/// A backbone spec as constants, emitted by the generator from the backbone attribute. The runtime
/// reads it (checkpoint checks, HF config matching, FLOP counts); the generated forward has the same
/// numbers inlined.
/// </summary>
public sealed record BackboneConfig(
    string Name,
    BackboneFamily Family,
    int Vocab,
    int Hidden,
    int Layers,
    int Heads,
    int KvHeads,
    int HeadDim,
    int Intermediate,
    int MaxPositions,
    double NormEps,
    bool TieEmbeddings,
    double RopeTheta = 0,
    RopeScaling? RopeScaling = null)
{
    /// <summary>Parameters of the backbone, counted from the sizes.</summary>
    public long ParameterCount
    {
        get
        {
            long h = Hidden, q = (long)Heads * HeadDim, kv = (long)KvHeads * HeadDim, i = Intermediate;
            long embed = (long)Vocab * h + (Family == BackboneFamily.Gpt2 ? (long)MaxPositions * h : 0);
            long attn = h * (q + 2 * kv) + q * h;
            long mlp = Family == BackboneFamily.Gpt2 ? 2 * h * i : 3 * h * i;
            long head = TieEmbeddings ? 0 : (long)Vocab * h;
            return embed + Layers * (attn + mlp) + head;
        }
    }

    /// <summary>Forward FLOPs per token at context length <paramref name="context"/> (matmuls only; ×3 for forward+backward).</summary>
    public double ForwardFlopsPerToken(int context)
    {
        double h = Hidden, q = (double)Heads * HeadDim, kv = (double)KvHeads * HeadDim, i = Intermediate;
        double matmuls = h * (q + 2 * kv) + q * h + (Family == BackboneFamily.Gpt2 ? 2 : 3) * h * i;
        double attention = 2.0 * q * context; // QK^T and PV, causal average ≈ context/2 each way
        return 2 * (Layers * (matmuls + attention / 2) + h * Vocab);
    }
}
