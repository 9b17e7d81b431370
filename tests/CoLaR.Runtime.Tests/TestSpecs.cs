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
