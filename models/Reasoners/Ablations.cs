using CoLaR.Models.Backbones;
using CoLaR.Specs;

namespace CoLaR.Models.Reasoners;

// The paper's ablations (Table 3): each differs from CoLaR by exactly one declared option.

/// <summary>CoLaR-DL: a deterministic latent head (std ≈ 0) instead of a Gaussian one.</summary>
[LatentReasoner(typeof(TinyLlama), MaxCompression = 5)]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 256, Kind = LatentHeadKind.Deterministic, Loss = LatentLoss.Mse)]
public partial class CoLaR_DL;

/// <summary>CoLaR-OC: no compressed labels — the LM head is trained on the answer only.</summary>
[LatentReasoner(typeof(TinyLlama), MaxCompression = 5)]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 256, Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
[Objective(CompressedLabels = false)]
public partial class CoLaR_OC;

/// <summary>CoLaR-MP: mean pooling instead of the sqrt-mean merge.</summary>
[LatentReasoner(typeof(TinyLlama), MaxCompression = 5)]
[CompressionMerger(Merge.Mean)]
[LatentHead(Intermediate = 256, Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
public partial class CoLaR_MP;

/// <summary>CoLaR-NLL: the latent head trained by negative log-likelihood instead of MSE (the paper's setting for RL).</summary>
[LatentReasoner(typeof(TinyLlama), MaxCompression = 5)]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 256, Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Nll)]
public partial class CoLaR_NLL;
