using CoLaR.Specs;

namespace CoLaR.Runtime.Tests;

// Tiny specs shared by the runtime tests: small enough to build in milliseconds on two CPU cores.

[Llama(Vocab = 64, Hidden = 32, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 64, MaxPositions = 128, TieEmbeddings = true)]
public partial class TestLlama;

[LatentReasoner(typeof(TestLlama), MaxCompression = 3, Tokenizer = "checkpoint")]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 32)]
public partial class TestReasoner;

/// <summary>Same backbone, wider latent head: a different fingerprint.</summary>
[LatentReasoner(typeof(TestLlama), MaxCompression = 3, Tokenizer = "checkpoint")]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 48)]
public partial class TestReasonerWideHead;

/// <summary>GPT-2: its checkpoint tensors include transposed views (Conv1D layout).</summary>
[Gpt2(Vocab = 64, Hidden = 32, Layers = 1, Heads = 4, Intermediate = 64, MaxPositions = 64)]
public partial class TestGpt2;

[ChainOfThought(typeof(TestGpt2), Tokenizer = "checkpoint")]
public partial class TestGpt2Reasoner;

// ---- Import and LoRA tests (Import/, Lora/): one backbone per family, vocabularies sized to the tiny tokenizers
// of Import/TinyHfCheckpoint (Llama: 262 with a reserved pad token; Qwen2: 261 tokens in a 272-row table;
// GPT-2: 259 tokens + an added [PAD] row; Qwen3: imported without a tokenizer).

[Llama(Vocab = 262, Hidden = 32, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 64, MaxPositions = 128, TieEmbeddings = true,
       RopeTheta = 500_000, RopeScaling = 8, RopeLowFreqFactor = 1, RopeHighFreqFactor = 4, RopeOriginalMaxPositions = 64)]
public partial class ImpLlama;

[Qwen2(Vocab = 272, Hidden = 32, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 64, MaxPositions = 128, NormEps = 1e-6, RopeTheta = 1_000_000)]
public partial class ImpQwen2;

[Qwen3(Vocab = 96, Hidden = 24, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 8, Intermediate = 48, MaxPositions = 64, NormEps = 1e-6,
       RopeTheta = 1_000_000, TieEmbeddings = true)]
public partial class ImpQwen3;

[Gpt2(Vocab = 260, Hidden = 32, Layers = 2, Heads = 4, MaxPositions = 64)]
public partial class ImpGpt2;

[ChainOfThought(typeof(ImpLlama), Tokenizer = "checkpoint")]
public partial class ImpLlamaCoT;

[ChainOfThought(typeof(ImpQwen2), Tokenizer = "checkpoint")]
public partial class ImpQwen2CoT;

[ChainOfThought(typeof(ImpQwen3), Tokenizer = "checkpoint")]
public partial class ImpQwen3CoT;

[ChainOfThought(typeof(ImpGpt2), Tokenizer = "checkpoint")]
public partial class ImpGpt2CoT;

/// <summary>LoRA on every projection of a Llama.</summary>
[ChainOfThought(typeof(ImpLlama), Tokenizer = "checkpoint")]
[Lora(Rank = 4, Alpha = 8)]
public partial class ImpLlamaCoTLora;

/// <summary>A latent reasoner with LoRA on attention and down projections only: heads train too.</summary>
[LatentReasoner(typeof(ImpLlama), MaxCompression = 3, Tokenizer = "checkpoint")]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 32)]
[Lora(Rank = 4, Alpha = 8, Targets = LoraTargets.Attention | LoraTargets.Down)]
public partial class ImpLlamaCoLaRLora;

/// <summary>Part of each fused projection adapted: q and v (not k), up (not gate); Qwen2's Q/K/V biases stay frozen.</summary>
[ChainOfThought(typeof(ImpQwen2), Tokenizer = "checkpoint")]
[Lora(Rank = 2, Alpha = 3, Targets = LoraTargets.Q | LoraTargets.V | LoraTargets.Up)]
public partial class ImpQwen2Lora;

/// <summary>GPT-2: c_attn adapted as a whole, the Conv1D layout.</summary>
[ChainOfThought(typeof(ImpGpt2), Tokenizer = "checkpoint")]
[Lora(Rank = 4, Alpha = 4)]
public partial class ImpGpt2Lora;
