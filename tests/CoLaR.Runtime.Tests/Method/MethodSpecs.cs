using CoLaR.Specs;

namespace CoLaR.Runtime.Tests.Method;

// Tiny models over the embedded tokenizer, for the method's objectives, inference and GRPO.

[Llama(Vocab = 512, Hidden = 32, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 64, MaxPositions = 256, TieEmbeddings = true)]
public partial class MethodLlama;

[LatentReasoner(typeof(MethodLlama), MaxCompression = 5, MaxLatentSteps = 24)]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 32)]
public partial class MethodCoLaR;

[LatentReasoner(typeof(MethodLlama), MaxCompression = 5, MaxLatentSteps = 24)]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 32, Loss = LatentLoss.Nll)]
public partial class MethodCoLaRNll;

[ChainOfThought(typeof(MethodLlama), MaxLatentSteps = 40)]
public partial class MethodCoT;

[ChainOfThought(typeof(MethodLlama), MaxLatentSteps = 40)]
[Curriculum(StepsPerStage = 1, EpochsPerStage = 1, MaxStages = 2)]
public partial class MethodICoT;
