using System.Collections.Generic;
using System.Globalization;
using CoLaR.Generators.Model;
using static CoLaR.Generators.Parser;

namespace CoLaR.Generators
{
    /// <summary>
    /// Pure checks: a spec (and where its arguments were written) in, diagnostics out. Every message
    /// names the numbers at fault; every location points at the argument that holds them. A spec that
    /// passes compiles: sizes the generated code multiplies (fused projections) fit an int, doubles are
    /// finite, enum values are members.
    /// </summary>
    internal static class ShapeChecker
    {
        public static void CheckBackbone(BackboneSpec s, AttributeArgs a, int explicitKvHeads, int explicitHeadDim, int explicitIntermediate, List<DiagnosticInfo> d)
        {
            bool gpt2 = s.Family == Family.Gpt2;
            Positive(a, "Vocab", s.Vocab, d);
            Positive(a, "Hidden", s.Hidden, d);
            Positive(a, "Layers", s.Layers, d);
            Positive(a, "Heads", s.Heads, d);
            // GPT-2's Intermediate 0 means 4·Hidden: only a written value can be wrong (Hidden is checked above).
            if (!gpt2 || explicitIntermediate != 0) Positive(a, "Intermediate", s.Intermediate, d);
            Positive(a, "MaxPositions", s.MaxPositions, d);
            if (explicitKvHeads < 0) d.Add(Diagnose(Diagnostics.NonPositiveSize, a.Where("KvHeads"), "KvHeads", explicitKvHeads));
            if (explicitHeadDim < 0) d.Add(Diagnose(Diagnostics.NonPositiveSize, a.Where("HeadDim"), "HeadDim", explicitHeadDim));
            if (Finite(a, "NormEps", s.NormEps, d) && s.NormEps <= 0)
                d.Add(Diagnose(Diagnostics.OutOfRange, a.Where("NormEps"), "NormEps", Num(s.NormEps), "it must be positive"));

            if (s.Hidden > 0 && s.Heads > 0 && explicitHeadDim == 0 && s.Hidden % s.Heads != 0)
                d.Add(Diagnose(Diagnostics.HiddenNotDivisibleByHeads, a.Where("Hidden"), s.Hidden, s.Heads,
                    (s.Hidden / (double)s.Heads).ToString("0.##", CultureInfo.InvariantCulture)));
            if (s.Heads > 0 && explicitKvHeads > 0 && s.Heads % explicitKvHeads != 0)
                d.Add(Diagnose(Diagnostics.HeadsNotDivisibleByKvHeads, a.Where("KvHeads"), s.Heads, explicitKvHeads));
            if (s.HasRope && s.HeadDim > 0 && s.HeadDim % 2 != 0)
                d.Add(Diagnose(Diagnostics.OddRotaryHeadDim, a.Where(explicitHeadDim != 0 ? "HeadDim" : "Hidden"), s.HeadDim));

            // The generated code declares the fused widths as int constants: they must not overflow.
            string headSize = explicitHeadDim != 0 ? "HeadDim" : "Hidden";
            int headSizeValue = explicitHeadDim != 0 ? s.HeadDim : s.Hidden;
            if (s.Heads > 0 && s.KvHeads > 0 && s.HeadDim > 0)
            {
                long fused = gpt2 ? 3L * s.Heads * s.HeadDim : (long)s.Heads * s.HeadDim + 2L * s.KvHeads * s.HeadDim;
                if (fused > int.MaxValue)
                    d.Add(Diagnose(Diagnostics.OutOfRange, a.Where(headSize), headSize, headSizeValue,
                        $"the fused Q/K/V projection would be {fused} wide, more than {int.MaxValue}"));
            }
            if (gpt2 && explicitIntermediate == 0 && s.Hidden > 0 && 4L * s.Hidden > int.MaxValue)
                d.Add(Diagnose(Diagnostics.OutOfRange, a.Where("Hidden"), "Hidden", s.Hidden,
                    $"the default Intermediate (4 x Hidden = {4L * s.Hidden}) is more than {int.MaxValue}; set Intermediate"));
            if (!gpt2 && s.Intermediate > 0 && 2L * s.Intermediate > int.MaxValue)
                d.Add(Diagnose(Diagnostics.OutOfRange, a.Where("Intermediate"), "Intermediate", s.Intermediate,
                    $"the fused gate/up projection would be {2L * s.Intermediate} wide, more than {int.MaxValue}"));

            if (s.HasRope)
            {
                if (Finite(a, "RopeTheta", s.RopeTheta, d) && s.RopeTheta <= 0)
                    d.Add(Diagnose(Diagnostics.OutOfRange, a.Where("RopeTheta"), "RopeTheta", Num(s.RopeTheta), "it must be positive"));
                bool finite = Finite(a, "RopeScaling", s.RopeScaling, d)
                    & Finite(a, "RopeLowFreqFactor", s.RopeLowFreqFactor, d)
                    & Finite(a, "RopeHighFreqFactor", s.RopeHighFreqFactor, d);
                if (finite && s.RopeScaling != 0)
                {
                    // Point at the first argument at fault: the factor, the band, or the original length.
                    string? at = s.RopeScaling < 1 ? "RopeScaling"
                        : s.RopeLowFreqFactor <= 0 ? "RopeLowFreqFactor"
                        : s.RopeLowFreqFactor >= s.RopeHighFreqFactor ? (a.Has("RopeHighFreqFactor") ? "RopeHighFreqFactor" : "RopeLowFreqFactor")
                        : s.RopeOriginalMaxPositions <= 0 ? "RopeOriginalMaxPositions"
                        : null;
                    if (at is not null)
                        d.Add(Diagnose(Diagnostics.BadRopeScaling, a.Where(at), Num(s.RopeScaling), Num(s.RopeLowFreqFactor),
                            Num(s.RopeHighFreqFactor), s.RopeOriginalMaxPositions));
                }
            }
        }

        public static void CheckReasoner(ReasonerSpec s, AttributeArgs root, AttributeArgs? merger, AttributeArgs? head,
            AttributeArgs? objective, AttributeArgs? curriculum, AttributeArgs? projector, AttributeArgs? teacher, AttributeArgs? lora,
            int embeddedVocabulary, List<DiagnosticInfo> d)
        {
            var b = s.Backbone;
            Positive(root, "MaxLatentSteps", s.MaxLatentSteps, d);
            Positive(root, "MaxAnswerTokens", s.MaxAnswerTokens, d);

            if (s.Tokenizer != "embedded" && s.Tokenizer != "checkpoint")
                d.Add(Diagnose(Diagnostics.OutOfRange, root.Where("Tokenizer"), "Tokenizer", "\"" + s.Tokenizer + "\"", "use \"embedded\" or \"checkpoint\""));
            else if (s.Tokenizer == "embedded" && embeddedVocabulary > 0 && b.Vocab > 0 && b.Vocab < embeddedVocabulary)
                d.Add(Diagnose(Diagnostics.VocabularyTooSmall, root.WherePositional(0), b.ClassName, b.Vocab, embeddedVocabulary));

            if (s.Method == Method.CompressedLatent)
            {
                if (merger is null) d.Add(Diagnose(Diagnostics.MissingComponent, root.Location, "LatentReasoner", s.ClassName, "CompressionMerger"));
                if (head is null) d.Add(Diagnose(Diagnostics.MissingComponent, root.Location, "LatentReasoner", s.ClassName, "LatentHead"));
                var c = s.Compression!;
                if (c.Min < 1 || c.Min > c.Max)
                    d.Add(Diagnose(Diagnostics.BadCompressionRange,
                        root.Where(c.Min < 1 || !root.Has("MaxCompression") ? "MinCompression" : "MaxCompression"), c.Min, c.Max));
                if (Finite(root, "AutoSpeedProbability", c.AutoSpeedProbability, d) && (c.AutoSpeedProbability < 0 || c.AutoSpeedProbability > 1))
                    d.Add(Diagnose(Diagnostics.OutOfRange, root.Where("AutoSpeedProbability"), "AutoSpeedProbability", Num(c.AutoSpeedProbability), "it is a probability in 0..1"));
            }
            if (merger is not null)
            {
                int width = merger.Int("Width", 0);
                if (width != 0 && width != b.Hidden)
                    d.Add(Diagnose(Diagnostics.MergerWidthMismatch, merger.Where("Width"), width, b.ClassName, b.Hidden));
                if (s.Compression is { } mc)
                    Member(merger.WherePositional(0), "Merge", (int)mc.Merge, "Merge", new[] { "Sum", "SqrtMean", "Mean" }, d);
            }
            if (head is not null && s.LatentHead is { } h)
            {
                int output = head.Int("Output", 0);
                if (output != 0 && output != b.Hidden)
                    d.Add(Diagnose(Diagnostics.LatentHeadWidthMismatch, head.Where("Output"), output, b.ClassName, b.Hidden));
                if (h.Intermediate < 0) d.Add(Diagnose(Diagnostics.NonPositiveSize, head.Where("Intermediate"), "LatentHead.Intermediate", h.Intermediate));
                bool kind = Member(head.Where("Kind"), "Kind", (int)h.Kind, "LatentHeadKind", new[] { "Gaussian", "Deterministic" }, d);
                bool loss = Member(head.Where("Loss"), "Loss", (int)h.Loss, "LatentLoss", new[] { "Mse", "Nll" }, d);
                if (kind && loss && h.Kind == HeadKind.Deterministic && h.Loss == LatentLossKind.Nll)
                    d.Add(Diagnose(Diagnostics.DeterministicNll, head.Where("Loss")));
            }
            if (objective is not null)
            {
                NonNegative(objective, "CeWeight", s.Objective.CeWeight, d);
                NonNegative(objective, "LatentWeight", s.Objective.LatentWeight, d);
                NonNegative(objective, "EntropyWeight", s.Objective.EntropyWeight, d);
            }
            if (curriculum is not null && s.Curriculum is { } cu)
            {
                Positive(curriculum, "StepsPerStage", cu.StepsPerStage, d);
                Positive(curriculum, "EpochsPerStage", cu.EpochsPerStage, d);
                Positive(curriculum, "MaxStages", cu.MaxStages, d);
            }
            if (s.Thoughts is { } t && (t.PerStep <= 0 || t.Max <= 0 || t.Max % t.PerStep != 0))
                d.Add(Diagnose(Diagnostics.BadThoughtCount,
                    root.Where(t.PerStep <= 0 || !root.Has("MaxThoughts") ? "ThoughtsPerStep" : "MaxThoughts"), t.Max, t.PerStep));
            if (projector is not null && s.Projector is { } p && p.Intermediate < 0)
                d.Add(Diagnose(Diagnostics.NonPositiveSize, projector.Where("Intermediate"), "LatentProjector.Intermediate", p.Intermediate));
            if (teacher is not null && s.Teacher is { } te)
            {
                NonNegative(teacher, "Weight", te.Weight, d);
                Member(teacher.Where("Loss"), "Loss", (int)te.Loss, "AlignmentLoss", new[] { "SmoothL1", "L1", "Mse" }, d);
            }
            if (lora is not null && s.Lora is { } l)
            {
                if (l.Rank < 1 || (b.Hidden > 0 && l.Rank > b.Hidden) || l.Targets == 0)
                    d.Add(Diagnose(Diagnostics.BadLoraRank, lora.Where(l.Targets == 0 ? "Targets" : "Rank"), l.Rank, b.ClassName, b.Hidden));
                else if ((l.Targets & ~AllLoraTargets) != 0)
                    d.Add(Diagnose(Diagnostics.OutOfRange, lora.Where("Targets"), "Targets", l.Targets,
                        "combine LoraTargets members (Q, K, V, O, Gate, Up, Down)"));
                else if (b.Family == Family.Gpt2 && (l.Targets & 7) != 0 && (l.Targets & 7) != 7)
                    d.Add(Diagnose(Diagnostics.OutOfRange, lora.Where("Targets"), "Targets", Emitter.LoraTargets(l.Targets).Replace("global::CoLaR.Specs.", ""),
                        $"{b.ClassName} is a GPT-2, whose c_attn projects Q, K and V together and is adapted as a whole: target all of Q, K and V, or none"));
                if (Finite(lora, "Alpha", l.Alpha, d) && l.Alpha <= 0)
                    d.Add(Diagnose(Diagnostics.OutOfRange, lora.Where("Alpha"), "Alpha", Num(l.Alpha), "it must be positive"));
            }
        }

        private const int AllLoraTargets = 127;

        private static void Positive(AttributeArgs a, string property, int value, List<DiagnosticInfo> d)
        {
            if (value <= 0) d.Add(Diagnose(Diagnostics.NonPositiveSize, a.Where(property), property, value));
        }

        private static void NonNegative(AttributeArgs a, string property, double value, List<DiagnosticInfo> d)
        {
            if (Finite(a, property, value, d) && value < 0)
                d.Add(Diagnose(Diagnostics.OutOfRange, a.Where(property), property, Num(value), "a weight cannot be negative"));
        }

        /// <summary>NaN and ±Infinity are constants C# accepts in an attribute, but no size, rate or weight can be one.</summary>
        private static bool Finite(AttributeArgs a, string property, double value, List<DiagnosticInfo> d)
        {
            if (!double.IsNaN(value) && !double.IsInfinity(value)) return true;
            d.Add(Diagnose(Diagnostics.OutOfRange, a.Where(property), property, Num(value), "it must be a finite number"));
            return false;
        }

        /// <summary>An enum value cast from a number (<c>(Merge)7</c>) that is no member of the enum.</summary>
        private static bool Member(LocationInfo? at, string property, int value, string enumName, string[] members, List<DiagnosticInfo> d)
        {
            if (value >= 0 && value < members.Length) return true;
            d.Add(Diagnose(Diagnostics.OutOfRange, at, property, value, "use " + string.Join(", ", System.Array.ConvertAll(members, m => enumName + "." + m))));
            return false;
        }

        private static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    }
}
