namespace CoLaR.Specs;

/// <summary>
/// Declares a decoder-only transformer backbone on a <c>partial class</c>. The source generator turns
/// it into a TorchSharp module with fused projections, SDPA and a KV cache. Every size is a
/// compile-time constant, checked at build time (COLAR001–COLAR004, COLAR014).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public abstract class BackboneAttribute : Attribute
{
    /// <summary>Vocabulary size: rows of the token-embedding table and columns of the LM head.</summary>
    public int Vocab { get; set; }
    /// <summary>Hidden size (width of the residual stream).</summary>
    public int Hidden { get; set; }
    /// <summary>Number of decoder layers.</summary>
    public int Layers { get; set; }
    /// <summary>Number of attention (query) heads.</summary>
    public int Heads { get; set; }
    /// <summary>Width of the MLP's inner layer.</summary>
    public int Intermediate { get; set; }
    /// <summary>Longest sequence (prompt + reasoning + answer) the model accepts.</summary>
    public int MaxPositions { get; set; } = 2048;
    /// <summary>Epsilon of the normalisation layers.</summary>
    public double NormEps { get; set; } = 1e-5;
    /// <summary>Share the token-embedding table with the LM head.</summary>
    public bool TieEmbeddings { get; set; }
}

/// <summary>Shared options of the rotary-position families (Llama, Qwen2, Qwen3).</summary>
public abstract class RotaryBackboneAttribute : BackboneAttribute
{
    /// <summary>Key/value heads for grouped-query attention; 0 means as many as <see cref="BackboneAttribute.Heads"/>.</summary>
    public int KvHeads { get; set; }
    /// <summary>Per-head width; 0 means Hidden / Heads.</summary>
    public int HeadDim { get; set; }
    /// <summary>RoPE base frequency.</summary>
    public double RopeTheta { get; set; } = 10_000;
    /// <summary>Llama-3 frequency scaling factor (32 for Llama-3.2); 0 turns scaling off.</summary>
    public double RopeScaling { get; set; }
    /// <summary>Llama-3 scaling: wavelengths above OriginalMaxPositions / LowFreqFactor are fully scaled.</summary>
    public double RopeLowFreqFactor { get; set; } = 1;
    /// <summary>Llama-3 scaling: wavelengths below OriginalMaxPositions / HighFreqFactor are kept.</summary>
    public double RopeHighFreqFactor { get; set; } = 4;
    /// <summary>Llama-3 scaling: the context length the model was pre-trained with.</summary>
    public int RopeOriginalMaxPositions { get; set; } = 8192;
}

/// <summary>Llama family: RMSNorm, RoPE (optionally Llama-3 scaled), grouped-query attention, SwiGLU MLP, no biases.</summary>
public sealed class LlamaAttribute : RotaryBackboneAttribute;

/// <summary>Qwen2 family: Llama layout plus biases on the Q, K and V projections.</summary>
public sealed class Qwen2Attribute : RotaryBackboneAttribute;

/// <summary>Qwen3 family: Llama layout plus RMSNorm on each query and key head (QK-norm).</summary>
public sealed class Qwen3Attribute : RotaryBackboneAttribute;

/// <summary>GPT-2 family: LayerNorm, learned positions, GELU (tanh) MLP, biases everywhere, tied LM head.</summary>
public sealed class Gpt2Attribute : BackboneAttribute
{
    public Gpt2Attribute()
    {
        MaxPositions = 1024;
        TieEmbeddings = true;
    }
}
