using CoLaR.Models.Backbones;
using CoLaR.Specs;

namespace CoLaR.Models.Reasoners;

/// <summary>CoLaR: reasoning compressed c = 1..5 tokens per latent, sqrt-mean merge, Gaussian latent head, MSE.</summary>
[LatentReasoner(typeof(TinyLlama), MaxCompression = 5)]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 256, Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
public partial class CoLaR;
