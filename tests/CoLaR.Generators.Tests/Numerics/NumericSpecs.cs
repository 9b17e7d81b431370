using CoLaR.Specs;

namespace CoLaR.Generators.Tests.Numerics;

// Small backbones declared in the test project itself: the generator runs on this project as an
// analyzer, and the tests compare the generated modules with a plain reference (ReferenceModel).

/// <summary>Llama: 4 query heads over 2 key/value heads, Llama-3 RoPE scaling (head size 8 puts one
/// frequency in the blended band and three in the scaled one), separate LM head.</summary>
[Llama(Vocab = 40, Hidden = 32, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 48, MaxPositions = 64,
       RopeTheta = 10_000, RopeScaling = 4, RopeLowFreqFactor = 1, RopeHighFreqFactor = 4, RopeOriginalMaxPositions = 16)]
public partial class NumLlama;

/// <summary>Qwen2: Q/K/V biases, tied embeddings.</summary>
[Qwen2(Vocab = 40, Hidden = 32, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 48, RopeTheta = 1_000_000,
       NormEps = 1e-6, TieEmbeddings = true)]
public partial class NumQwen2;

/// <summary>Qwen3: QK-norm, Heads × HeadDim (32) wider than Hidden (24).</summary>
[Qwen3(Vocab = 40, Hidden = 24, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 8, Intermediate = 48, NormEps = 1e-6)]
public partial class NumQwen3;

/// <summary>GPT-2 with tied embeddings (the family's default).</summary>
[Gpt2(Vocab = 40, Hidden = 32, Layers = 2, Heads = 4, MaxPositions = 32)]
public partial class NumGpt2;

/// <summary>GPT-2 with a separate LM head and an explicit MLP width.</summary>
[Gpt2(Vocab = 40, Hidden = 32, Layers = 1, Heads = 2, Intermediate = 80, MaxPositions = 32, TieEmbeddings = false)]
public partial class NumGpt2Untied;
