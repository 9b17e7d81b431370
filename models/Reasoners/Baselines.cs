using CoLaR.Models.Backbones;
using CoLaR.Specs;

namespace CoLaR.Models.Reasoners;

// The paper's baselines (Table 1), declared with the same spec language as CoLaR.

/// <summary>CoT: supervised chain of thought (question → ### steps ### answer). CoLaR starts from it.</summary>
[ChainOfThought(typeof(TinyLlama))]
public partial class CoT;

/// <summary>No-CoT: the answer straight after the question.</summary>
[DirectAnswer(typeof(TinyLlama))]
public partial class NoCoT;

/// <summary>
/// iCoT (stepwise internalisation): chain of thought whose leading steps are removed one per stage
/// (one stage per epoch) until, from stage 3 on, none remain.
/// </summary>
[ChainOfThought(typeof(TinyLlama))]
[Curriculum(StepsPerStage = 1, EpochsPerStage = 1, MaxStages = 3)]
public partial class iCoT;

/// <summary>
/// Coconut: stage k replaces the first k steps by 2k continuous thoughts (the last hidden state fed
/// back as the next input, with the question in context); from stage 3 on, 6 thoughts replace every step.
/// The optimizer is reset when a stage begins, as in the original.
/// </summary>
[ContinuousThought(typeof(TinyLlama), ThoughtsPerStep = 2, MaxThoughts = 6)]
[Curriculum(StepsPerStage = 1, EpochsPerStage = 1, MaxStages = 3, ResetOptimizer = true)]
public partial class Coconut;

/// <summary>
/// Distill (CODI-style): 6 continuous thoughts through an MLP projector; the student's last hidden state
/// at the answer's "Answer:" is aligned (smooth-L1, weight 20) with a teacher pass over the full chain of
/// thought by the same weights; both cross-entropies are trained.
/// </summary>
[ContinuousThought(typeof(TinyLlama), ThoughtsPerStep = 6, MaxThoughts = 6)]
[LatentProjector(Intermediate = 256, LayerNorm = true)]
[TeacherAlignment(Weight = 20, Loss = AlignmentLoss.SmoothL1)]
public partial class Distill;
