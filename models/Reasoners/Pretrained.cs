using CoLaR.Models.Backbones;
using CoLaR.Specs;

namespace CoLaR.Models.Reasoners;

// The paper's configuration on pre-trained backbones (docs/gpu.md): LoRA r = 128, alpha = 32 on every projection,
// compression 1..5, sqrt-mean merge, Gaussian latent head with MSE. CoT-SFT first, then CoLaR from it (--init).

/// <summary>CoLaR on Llama-3.2-1B-Instruct with LoRA (the paper's main setting).</summary>
[LatentReasoner(typeof(Llama32_1B), MaxCompression = 5, Tokenizer = "checkpoint")]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
[Lora(Rank = 128, Alpha = 32, Targets = LoraTargets.All)]
public partial class CoLaR_Llama32;

/// <summary>Chain-of-thought SFT on Llama-3.2-1B-Instruct with LoRA: the CoT baseline, and the start of CoLaR_Llama32.</summary>
[ChainOfThought(typeof(Llama32_1B), Tokenizer = "checkpoint")]
[Lora(Rank = 128, Alpha = 32, Targets = LoraTargets.All)]
public partial class CoT_Llama32;

/// <summary>CoLaR on Qwen2.5-0.5B-Instruct with LoRA.</summary>
[LatentReasoner(typeof(Qwen25_05B), MaxCompression = 5, Tokenizer = "checkpoint")]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
[Lora(Rank = 128, Alpha = 32, Targets = LoraTargets.All)]
public partial class CoLaR_Qwen25;

/// <summary>Chain-of-thought SFT on Qwen2.5-0.5B-Instruct with LoRA.</summary>
[ChainOfThought(typeof(Qwen25_05B), Tokenizer = "checkpoint")]
[Lora(Rank = 128, Alpha = 32, Targets = LoraTargets.All)]
public partial class CoT_Qwen25;

/// <summary>CoLaR on GPT-2 small, fully fine-tuned (as the published GPT-2 baselines are).</summary>
[LatentReasoner(typeof(Gpt2Small), MaxCompression = 5, Tokenizer = "checkpoint")]
[CompressionMerger(Merge.SqrtMean)]
[LatentHead(Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
public partial class CoLaR_Gpt2;

/// <summary>Chain-of-thought SFT on GPT-2 small, fully fine-tuned.</summary>
[ChainOfThought(typeof(Gpt2Small), Tokenizer = "checkpoint")]
public partial class CoT_Gpt2;
