using CoLaR.Models.Backbones;
using CoLaR.Specs;

namespace CoLaR.Models.Reasoners;

/// <summary>CoLaR: reasoning compressed c = 1..5 tokens per latent, sqrt-mean merge, Gaussian latent head, MSE.</summary>
[LatentReasoner(typeof(TinyLlama), MaxCompression = 5)]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 256, Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
public partial class CoLaR;

/// <summary>
/// CoLaR with LoRA adapters (r = 8, alpha = 16, every projection) on the tiny backbone: the paper's LoRA recipe at toy
/// scale. Start it from a CoT checkpoint or an imported backbone with --init; its checkpoints then hold only the
/// adapters and the latent head, and name the --init file as their base.
/// </summary>
[LatentReasoner(typeof(TinyLlama), MaxCompression = 5)]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Intermediate = 256, Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
[Lora(Rank = 8, Alpha = 16)]
public partial class CoLaR_Lora;
