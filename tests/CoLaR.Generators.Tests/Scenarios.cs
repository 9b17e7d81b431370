namespace CoLaR.Generators.Tests;

/// <summary>
/// Valid specs covering every family and every reasoner root, used by the snapshot tests (and the fuzz
/// tests as seeds). Each scenario's generated files must compile with no diagnostic.
/// </summary>
public static class Scenarios
{
    /// <summary>
    /// A backbone the reasoner scenarios share (its own snapshot is the Llama scenario's business). Its
    /// vocabulary covers the embedded tokenizer (COLAR011), which reasoners use by default.
    /// </summary>
    public static readonly SourceFile SharedBackbone = new("Backbone.cs", """
        using CoLaR.Specs;

        namespace Specs;

        [Llama(Vocab = 512, Hidden = 64, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 128, TieEmbeddings = true, MaxPositions = 128)]
        public partial class Tiny;
        """);

    public const string SharedBackboneHint = "Specs.Tiny.g.cs";

    /// <summary>Scenario name → source. Backbone scenarios stand alone; reasoner scenarios add <see cref="SharedBackbone"/>.</summary>
    public static readonly IReadOnlyDictionary<string, string> Backbones = new Dictionary<string, string>
    {
        ["Llama_GqaRopeScaling"] = """
            using CoLaR.Specs;

            namespace Specs;

            /// <summary>Llama-3 style: grouped-query attention (8 query heads over 2 key/value heads), scaled RoPE, separate LM head.</summary>
            [Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 8, KvHeads = 2, Intermediate = 160, MaxPositions = 256,
                   RopeTheta = 500_000, RopeScaling = 8, RopeLowFreqFactor = 1, RopeHighFreqFactor = 4, RopeOriginalMaxPositions = 64)]
            public partial class Llama3Mini;
            """,
        ["Qwen2_QkvBias"] = """
            using CoLaR.Specs;

            namespace Specs;

            [Qwen2(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 128,
                   RopeTheta = 1_000_000, NormEps = 1e-6, TieEmbeddings = true)]
            public partial class Qwen2Mini;
            """,
        ["Qwen3_QkNormHeadDim"] = """
            using CoLaR.Specs;

            namespace Specs;

            /// <summary>Heads × HeadDim (4 × 16 = 64) differs from Hidden (48), as in Qwen3.</summary>
            [Qwen3(Vocab = 96, Hidden = 48, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, Intermediate = 96,
                   RopeTheta = 1_000_000, NormEps = 1e-6)]
            public partial class Qwen3Mini;
            """,
        ["Gpt2_Tied"] = """
            using CoLaR.Specs;

            namespace Specs;

            [Gpt2(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, MaxPositions = 64)]
            public partial class Gpt2Tied;
            """,
        ["Gpt2_Untied"] = """
            using CoLaR.Specs;

            // The global namespace works too.
            [Gpt2(Vocab = 96, Hidden = 64, Layers = 2, Heads = 2, Intermediate = 192, MaxPositions = 64, NormEps = 1e-6, TieEmbeddings = false)]
            public partial class Gpt2Untied;
            """,
    };

    public static readonly IReadOnlyDictionary<string, string> Reasoners = new Dictionary<string, string>
    {
        ["LatentReasoner_GaussianSqrtMean"] = """
            using CoLaR.Specs;

            namespace Specs;

            [LatentReasoner(typeof(Tiny), MaxCompression = 5)]
            [CompressionMerger(Merge.SqrtMean)]
            [LatentHead(Intermediate = 96, Kind = LatentHeadKind.Gaussian, Loss = LatentLoss.Mse)]
            public partial class CoLaRGaussian;
            """,
        ["LatentReasoner_DeterministicSum"] = """
            using CoLaR.Specs;

            namespace Specs;

            [LatentReasoner(typeof(Tiny), MinCompression = 2, MaxCompression = 3, MaxLatentSteps = 32, MaxAnswerTokens = 8)]
            [CompressionMerger(Merge.Sum)]
            [LatentHead(Kind = LatentHeadKind.Deterministic)]
            public partial class CoLaRDeterministic;
            """,
        ["LatentReasoner_NllMean"] = """
            using CoLaR.Specs;

            namespace Specs;

            [LatentReasoner(typeof(Tiny), MaxCompression = 4, AutoSpeedProbability = 0.25)]
            [CompressionMerger(Merge.Mean, Width = 64)]
            [LatentHead(Intermediate = 128, Output = 64, Loss = LatentLoss.Nll)]
            [Objective(CeWeight = 1, LatentWeight = 0.5, EntropyWeight = 0.01, CompressedLabels = false)]
            public partial class CoLaRNll;
            """,
        ["ChainOfThought_Curriculum"] = """
            using CoLaR.Specs;

            namespace Specs;

            /// <summary>iCoT: remove one leading reasoning step per stage.</summary>
            [ChainOfThought(typeof(Tiny), MaxLatentSteps = 48)]
            [Curriculum(StepsPerStage = 1, EpochsPerStage = 2, MaxStages = 4)]
            public partial class ICoT;
            """,
        ["DirectAnswer"] = """
            using CoLaR.Specs;

            namespace Specs;

            [DirectAnswer(typeof(Tiny))]
            public partial class NoCoT;
            """,
        ["ContinuousThought_Coconut"] = """
            using CoLaR.Specs;

            namespace Specs;

            [ContinuousThought(typeof(Tiny), ThoughtsPerStep = 2, MaxThoughts = 6)]
            [Curriculum(EpochsPerStage = 3, MaxStages = 3, ResetOptimizer = true)]
            public partial class Coconut;
            """,
        ["ContinuousThought_Distill"] = """
            using CoLaR.Specs;

            namespace Specs;

            [ContinuousThought(typeof(Tiny), ThoughtsPerStep = 1, MaxThoughts = 6)]
            [LatentProjector(Intermediate = 128)]
            [TeacherAlignment(Weight = 20, Loss = AlignmentLoss.SmoothL1, Normalize = true)]
            public partial class Distill;
            """,
        ["Lora"] = """
            using CoLaR.Specs;

            namespace Specs;

            [ChainOfThought(typeof(Tiny))]
            [Lora(Rank = 8, Alpha = 16, Targets = LoraTargets.Attention | LoraTargets.Up)]
            public partial class CoTLora;
            """,
        ["ExtensionPoints"] = """
            using CoLaR.Specs;
            using CoLaR.Inference;
            using CoLaR.Training;

            namespace Specs;

            /// <summary>Both extension points overridden: the generator emits neither.</summary>
            [ChainOfThought(typeof(Tiny))]
            public partial class Custom
            {
                public override SftLoss ComputeSftLoss(SftBatch batch, SftContext context) => Objectives.DirectAnswer(this, batch, context);
                public override GenerationResult Generate(GenerationRequest request) => TextInference.Generate(this, request);
            }
            """,
    };

    public static IEnumerable<object[]> BackboneNames => Backbones.Keys.Select(k => new object[] { k });
    public static IEnumerable<object[]> ReasonerNames => Reasoners.Keys.Select(k => new object[] { k });

    /// <summary>A scenario's sources: reasoners come with the shared backbone.</summary>
    public static SourceFile[] Sources(string name) =>
        Backbones.TryGetValue(name, out var backbone)
            ? [new SourceFile(name + ".cs", backbone)]
            : [SharedBackbone, new SourceFile(name + ".cs", Reasoners[name])];
}
