namespace CoLaR.Specs;

/// <summary>How a compression merger folds a group of c step-token embeddings into one.</summary>
public enum Merge
{
    /// <summary>Sum of the group's real embeddings.</summary>
    Sum,
    /// <summary>Sum divided by sqrt(real tokens): keeps the norm of independent embeddings (CoLaR's default).</summary>
    SqrtMean,
    /// <summary>Plain mean (the MP ablation).</summary>
    Mean,
}

/// <summary>What the latent head outputs.</summary>
public enum LatentHeadKind
{
    /// <summary>A Normal distribution (mean and log-std): sampling explores, RL can learn.</summary>
    Gaussian,
    /// <summary>The mean only; the std is fixed at ~0 (the DL ablation).</summary>
    Deterministic,
}

/// <summary>The latent head's training loss against the next compressed embedding.</summary>
public enum LatentLoss
{
    /// <summary>Mean squared error of a reparameterised sample (the reference default).</summary>
    Mse,
    /// <summary>Negative log-likelihood of the target under the predicted Normal.</summary>
    Nll,
}

/// <summary>Loss aligning a student's hidden state with a teacher's (Distill).</summary>
public enum AlignmentLoss { SmoothL1, L1, Mse }

/// <summary>Backbone projections that LoRA adapts.</summary>
[Flags]
public enum LoraTargets
{
    None = 0,
    Q = 1, K = 2, V = 4, O = 8,
    Gate = 16, Up = 32, Down = 64,
    Attention = Q | K | V | O,
    Mlp = Gate | Up | Down,
    All = Attention | Mlp,
}

/// <summary>
/// Base of the reasoner roots: each composes a backbone (a class carrying a backbone attribute) with a
/// way of representing reasoning steps. A class carries exactly one root (COLAR006).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public abstract class ReasonerAttribute(Type backbone) : Attribute
{
    /// <summary>The backbone spec class.</summary>
    public Type Backbone { get; } = backbone;
    /// <summary>"embedded" (the built-in tokenizer; the backbone's Vocab must cover it, COLAR011) or "checkpoint" (the tokenizer files beside an imported checkpoint).</summary>
    public string Tokenizer { get; set; } = "embedded";
    /// <summary>Longest reasoning at inference: latent steps, or CoT tokens.</summary>
    public int MaxLatentSteps { get; set; } = 64;
    /// <summary>Longest answer at inference, in tokens.</summary>
    public int MaxAnswerTokens { get; set; } = 16;
}

/// <summary>CoLaR: reasoning steps compressed c tokens at a time, predicted by a latent head.
/// Needs a <see cref="CompressionMergerAttribute"/> and a <see cref="LatentHeadAttribute"/>.</summary>
public sealed class LatentReasonerAttribute(Type backbone) : ReasonerAttribute(backbone)
{
    /// <summary>Smallest compression factor trained (and allowed at inference).</summary>
    public int MinCompression { get; set; } = 1;
    /// <summary>Largest compression factor c_max; SFT draws c uniformly from Min..Max per batch.</summary>
    public int MaxCompression { get; set; } = 5;
    /// <summary>Probability of writing "auto" instead of the speed in the prompt during SFT.</summary>
    public double AutoSpeedProbability { get; set; }
}

/// <summary>Explicit chain of thought: reasoning steps are generated as text (CoT; with a
/// <see cref="CurriculumAttribute"/>, iCoT's stepwise internalisation).</summary>
public sealed class ChainOfThoughtAttribute(Type backbone) : ReasonerAttribute(backbone);

/// <summary>No reasoning steps at all: the answer follows the question (No-CoT).</summary>
public sealed class DirectAnswerAttribute(Type backbone) : ReasonerAttribute(backbone);

/// <summary>Continuous thoughts: the last hidden state is fed back as the next input embedding
/// (Coconut with a <see cref="CurriculumAttribute"/>; Distill with a <see cref="LatentProjectorAttribute"/>
/// and a <see cref="TeacherAlignmentAttribute"/>).</summary>
public sealed class ContinuousThoughtAttribute(Type backbone) : ReasonerAttribute(backbone)
{
    /// <summary>Continuous thoughts that replace one reasoning step (Coconut: 2).</summary>
    public int ThoughtsPerStep { get; set; } = 2;
    /// <summary>Continuous thoughts once every step is replaced; fixed at inference (6 in the papers).</summary>
    public int MaxThoughts { get; set; } = 6;
}

/// <summary>The compression merger of a <see cref="LatentReasonerAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class CompressionMergerAttribute(Merge merge = Merge.SqrtMean) : Attribute
{
    public Merge Merge { get; } = merge;
    /// <summary>Width of a merged embedding; 0 means the backbone's Hidden, the only valid value (COLAR008).</summary>
    public int Width { get; set; }
}

/// <summary>The latent head: Linear(H, I) → GELU → Linear(I, I) → LayerNorm(I) → mean and log-std heads Linear(I, H).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LatentHeadAttribute : Attribute
{
    /// <summary>Inner width I.</summary>
    public int Intermediate { get; set; }
    /// <summary>Output width; 0 means the backbone's Hidden, the only valid value (COLAR007).</summary>
    public int Output { get; set; }
    public LatentHeadKind Kind { get; set; } = LatentHeadKind.Gaussian;
    public LatentLoss Loss { get; set; } = LatentLoss.Mse;
}

/// <summary>Weights of the SFT objective's terms.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ObjectiveAttribute : Attribute
{
    /// <summary>Weight of the cross-entropy on step labels and answer.</summary>
    public double CeWeight { get; set; } = 1;
    /// <summary>Weight of the latent loss (CoLaR).</summary>
    public double LatentWeight { get; set; } = 1;
    /// <summary>Weight of an entropy bonus on the latent head (0: off).</summary>
    public double EntropyWeight { get; set; }
    /// <summary>Train the LM head on compressed positions' labels (false: CE on the answer only, the OC ablation).</summary>
    public bool CompressedLabels { get; set; } = true;
}

/// <summary>A curriculum over reasoning steps: stage k removes (CoT → iCoT) or replaces with
/// continuous thoughts (Coconut) the first k·StepsPerStage steps.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class CurriculumAttribute : Attribute
{
    /// <summary>Leading steps removed or replaced per stage.</summary>
    public int StepsPerStage { get; set; } = 1;
    /// <summary>Epochs spent in each stage; stage = floor(epoch / EpochsPerStage).</summary>
    public int EpochsPerStage { get; set; } = 1;
    /// <summary>The last stage; every later epoch stays there. For iCoT and Coconut it removes/replaces all steps.</summary>
    public int MaxStages { get; set; } = 3;
    /// <summary>Reset the optimizer's state when a stage begins (Coconut).</summary>
    public bool ResetOptimizer { get; set; }
}

/// <summary>An MLP that maps a continuous thought back into input space (Distill / CODI).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LatentProjectorAttribute : Attribute
{
    /// <summary>Inner width; 0 means the backbone's Hidden.</summary>
    public int Intermediate { get; set; }
    /// <summary>End with a LayerNorm (CODI's projector).</summary>
    public bool LayerNorm { get; set; } = true;
}

/// <summary>Distillation from a teacher pass that saw the full chain of thought: the student's hidden
/// states at the answer's anchor token are aligned with the teacher's.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class TeacherAlignmentAttribute : Attribute
{
    public double Weight { get; set; } = 20;
    public AlignmentLoss Loss { get; set; } = AlignmentLoss.SmoothL1;
    /// <summary>Normalise the alignment loss by the teacher's hidden-state magnitude (CODI).</summary>
    public bool Normalize { get; set; }
}

/// <summary>Low-rank adapters on the backbone's projections; only adapter (and head) weights train and are saved.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LoraAttribute : Attribute
{
    public int Rank { get; set; } = 128;
    public double Alpha { get; set; } = 32;
    public LoraTargets Targets { get; set; } = LoraTargets.All;
}
