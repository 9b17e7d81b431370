namespace CoLaR.Generators.Model
{
    /// <summary>How a reasoner represents its reasoning steps (which root attribute declared it).</summary>
    internal enum Method { DirectAnswer, ChainOfThought, ContinuousThought, CompressedLatent }

    internal enum MergeKind { Sum, SqrtMean, Mean }
    internal enum HeadKind { Gaussian, Deterministic }
    internal enum LatentLossKind { Mse, Nll }
    internal enum AlignmentLossKind { SmoothL1, L1, Mse }

    internal sealed record CompressionSpec(int Min, int Max, double AutoSpeedProbability, MergeKind Merge);
    internal sealed record LatentHeadSpec(int Intermediate, HeadKind Kind, LatentLossKind Loss);
    internal sealed record ObjectiveSpec(double CeWeight, double LatentWeight, double EntropyWeight, bool CompressedLabels);
    internal sealed record CurriculumSpec(int StepsPerStage, int EpochsPerStage, int MaxStages, bool ResetOptimizer);
    internal sealed record ThoughtSpec(int PerStep, int Max);
    internal sealed record ProjectorSpec(int Intermediate, bool LayerNorm);
    internal sealed record TeacherSpec(double Weight, AlignmentLossKind Loss, bool Normalize);
    internal sealed record LoraSpec(int Rank, double Alpha, int Targets);

    /// <summary>A reasoner spec: the backbone (resolved from its class) plus every component, defaults filled in.</summary>
    internal sealed record ReasonerSpec(
        string Namespace,
        string ClassName,
        Method Method,
        BackboneSpec Backbone,
        string Tokenizer,
        int MaxLatentSteps,
        int MaxAnswerTokens,
        CompressionSpec? Compression,
        LatentHeadSpec? LatentHead,
        ObjectiveSpec Objective,
        CurriculumSpec? Curriculum,
        ThoughtSpec? Thoughts,
        ProjectorSpec? Projector,
        TeacherSpec? Teacher,
        LoraSpec? Lora,
        bool UserSftLoss = false,
        bool UserGenerate = false)
    {
        public string FullName => Namespace.Length == 0 ? "global::" + ClassName : "global::" + Namespace + "." + ClassName;
    }
}
