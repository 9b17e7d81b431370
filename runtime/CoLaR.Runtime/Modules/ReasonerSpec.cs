using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CoLaR.Specs;

namespace CoLaR.Modules;

/// <summary>How a reasoner represents reasoning steps; one per root attribute.</summary>
public enum ReasoningMethod
{
    /// <summary>[DirectAnswer]: no steps.</summary>
    DirectAnswer,
    /// <summary>[ChainOfThought]: steps as text.</summary>
    ChainOfThought,
    /// <summary>[ContinuousThought]: steps as recycled hidden states.</summary>
    ContinuousThought,
    /// <summary>[LatentReasoner]: steps compressed c tokens at a time, predicted by a latent head (CoLaR).</summary>
    CompressedLatent,
}

public sealed record CompressionOptions(int Min, int Max, double AutoSpeedProbability, Merge Merge);
public sealed record LatentHeadOptions(int Intermediate, LatentHeadKind Kind, LatentLoss Loss);
public sealed record ObjectiveOptions(double CeWeight = 1, double LatentWeight = 1, double EntropyWeight = 0, bool CompressedLabels = true);
public sealed record CurriculumOptions(int StepsPerStage, int EpochsPerStage, int MaxStages, bool ResetOptimizer);
public sealed record ThoughtOptions(int PerStep, int Max);
public sealed record ProjectorOptions(int Intermediate, bool LayerNorm);
public sealed record TeacherOptions(double Weight, AlignmentLoss Loss, bool Normalize);
/// <summary>[Lora]: rank, alpha (the update is scaled by alpha / rank) and the projections adapted.</summary>
public sealed record LoraOptions(int Rank, double Alpha, LoraTargets Targets)
{
    public bool Q => (Targets & LoraTargets.Q) != 0;
    public bool K => (Targets & LoraTargets.K) != 0;
    public bool V => (Targets & LoraTargets.V) != 0;
    public bool O => (Targets & LoraTargets.O) != 0;
    public bool Gate => (Targets & LoraTargets.Gate) != 0;
    public bool Up => (Targets & LoraTargets.Up) != 0;
    public bool Down => (Targets & LoraTargets.Down) != 0;

    /// <summary>"r=128 α=32 q,k,v,o,gate,up,down".</summary>
    public string Describe() =>
        $"r={Rank} alpha={Alpha.ToString("R", CultureInfo.InvariantCulture)} targets=" +
        string.Join(",", new[] { (Q, "q"), (K, "k"), (V, "v"), (O, "o"), (Gate, "gate"), (Up, "up"), (Down, "down") }.Where(t => t.Item1).Select(t => t.Item2));
}

/// <summary>
/// A reasoner spec as data, emitted by the generator: what the trainers, inference and the command
/// line need to know about a declared model. Its <see cref="Fingerprint"/> is stored in every
/// checkpoint, so loading weights into a different spec is refused.
/// </summary>
public sealed record ReasonerSpec(
    string Name,
    ReasoningMethod Method,
    BackboneConfig Backbone,
    string Tokenizer,
    int MaxLatentSteps,
    int MaxAnswerTokens,
    CompressionOptions? Compression,
    LatentHeadOptions? LatentHead,
    ObjectiveOptions Objective,
    CurriculumOptions? Curriculum = null,
    ThoughtOptions? Thoughts = null,
    ProjectorOptions? Projector = null,
    TeacherOptions? Teacher = null,
    LoraOptions? Lora = null)
{
    /// <summary>A short hash of everything that shapes the weights (backbone sizes and heads), not of training-only options.</summary>
    public string Fingerprint
    {
        get
        {
            var b = Backbone;
            var text = string.Join("|",
                b.Family, b.Vocab, b.Hidden, b.Layers, b.Heads, b.KvHeads, b.HeadDim, b.Intermediate, b.MaxPositions, b.TieEmbeddings,
                Method, LatentHead?.Intermediate.ToString(CultureInfo.InvariantCulture) ?? "-", Projector?.Intermediate.ToString(CultureInfo.InvariantCulture) ?? "-",
                Projector?.LayerNorm.ToString() ?? "-", Lora is null ? "-" : $"{Lora.Rank}:{(int)Lora.Targets}");
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();
        }
    }

    /// <summary>The compression factors the model may be prompted with (1 for methods without compression).</summary>
    public (int Min, int Max) CompressionRange => Compression is { } c ? (c.Min, c.Max) : (1, 1);

    /// <summary>A one-line description for `colar list`.</summary>
    public string Summary()
    {
        var b = Backbone;
        string method = Method switch
        {
            ReasoningMethod.CompressedLatent => $"latent reasoner c={Compression!.Min}..{Compression.Max}, {Compression.Merge} merge, " +
                $"{LatentHead!.Kind} head, {LatentHead.Loss} loss{(Objective.CompressedLabels ? "" : ", no compressed labels")}",
            ReasoningMethod.ChainOfThought => Curriculum is null ? "chain of thought" : $"chain of thought, stepwise internalisation ({Curriculum.StepsPerStage} step/stage)",
            ReasoningMethod.ContinuousThought => Teacher is not null
                ? $"{Thoughts!.Max} continuous thoughts, projector, teacher alignment x{Teacher.Weight}"
                : $"continuous thoughts ({Thoughts!.PerStep}/step, {Thoughts.Max} max){(Curriculum is null ? "" : ", curriculum")}",
            _ => "direct answer (no reasoning steps)",
        };
        string lora = Lora is { } l ? $", LoRA r={l.Rank}" : "";
        return $"{method}{lora}; {b.Name} ({b.Family}, {b.Layers}x{b.Hidden}, {b.ParameterCount / 1e6:0.##}M params)";
    }
}
