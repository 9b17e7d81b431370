using System.Collections.Generic;
using System.Globalization;
using CoLaR.Generators.Model;
using static CoLaR.Generators.Parser;

namespace CoLaR.Generators
{
    /// <summary>
    /// Pure checks: a spec (and where its arguments were written) in, diagnostics out. Every message
    /// names the numbers at fault; every location points at the argument that holds them.
    /// </summary>
    internal static class ShapeChecker
    {
        public static void CheckBackbone(BackboneSpec s, AttributeArgs a, int explicitKvHeads, int explicitHeadDim, List<DiagnosticInfo> d)
        {
            Positive(a, "Vocab", s.Vocab, d);
            Positive(a, "Hidden", s.Hidden, d);
            Positive(a, "Layers", s.Layers, d);
            Positive(a, "Heads", s.Heads, d);
            Positive(a, "Intermediate", s.Intermediate, d);
            Positive(a, "MaxPositions", s.MaxPositions, d);
            if (explicitKvHeads < 0) d.Add(Diagnose(Diagnostics.NonPositiveSize, a.Where("KvHeads"), "KvHeads", explicitKvHeads));
            if (explicitHeadDim < 0) d.Add(Diagnose(Diagnostics.NonPositiveSize, a.Where("HeadDim"), "HeadDim", explicitHeadDim));
            if (s.NormEps <= 0) d.Add(Diagnose(Diagnostics.OutOfRange, a.Where("NormEps"), "NormEps", Num(s.NormEps), "it must be positive"));

            if (s.Hidden > 0 && s.Heads > 0 && explicitHeadDim == 0 && s.Hidden % s.Heads != 0)
                d.Add(Diagnose(Diagnostics.HiddenNotDivisibleByHeads, a.Where("Hidden"), s.Hidden, s.Heads,
                    (s.Hidden / (double)s.Heads).ToString("0.##", CultureInfo.InvariantCulture)));
            if (s.Heads > 0 && explicitKvHeads > 0 && s.Heads % explicitKvHeads != 0)
                d.Add(Diagnose(Diagnostics.HeadsNotDivisibleByKvHeads, a.Where("KvHeads"), s.Heads, explicitKvHeads));
            if (s.HasRope && s.HeadDim > 0 && s.HeadDim % 2 != 0)
                d.Add(Diagnose(Diagnostics.OddRotaryHeadDim, a.Where(explicitHeadDim != 0 ? "HeadDim" : "Hidden"), s.HeadDim));
            if (s.HasRope)
            {
                if (s.RopeTheta <= 0) d.Add(Diagnose(Diagnostics.OutOfRange, a.Where("RopeTheta"), "RopeTheta", Num(s.RopeTheta), "it must be positive"));
                if (s.RopeScaling != 0 && (s.RopeScaling < 1 || s.RopeLowFreqFactor <= 0 || s.RopeLowFreqFactor >= s.RopeHighFreqFactor || s.RopeOriginalMaxPositions <= 0))
                    d.Add(Diagnose(Diagnostics.BadRopeScaling, a.Where("RopeScaling"), Num(s.RopeLowFreqFactor), Num(s.RopeHighFreqFactor), Num(s.RopeScaling)));
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
                    d.Add(Diagnose(Diagnostics.BadCompressionRange, root.Where(root.Has("MinCompression") && c.Min < 1 ? "MinCompression" : "MaxCompression"), c.Min, c.Max));
                if (c.AutoSpeedProbability < 0 || c.AutoSpeedProbability > 1)
                    d.Add(Diagnose(Diagnostics.OutOfRange, root.Where("AutoSpeedProbability"), "AutoSpeedProbability", Num(c.AutoSpeedProbability), "it is a probability in 0..1"));
            }
            if (merger is not null)
            {
                int width = merger.Int("Width", 0);
                if (width != 0 && width != b.Hidden)
                    d.Add(Diagnose(Diagnostics.MergerWidthMismatch, merger.Where("Width"), width, b.ClassName, b.Hidden));
            }
            if (head is not null && s.LatentHead is { } h)
            {
                int output = head.Int("Output", 0);
                if (output != 0 && output != b.Hidden)
                    d.Add(Diagnose(Diagnostics.LatentHeadWidthMismatch, head.Where("Output"), output, b.ClassName, b.Hidden));
                if (h.Intermediate < 0) d.Add(Diagnose(Diagnostics.NonPositiveSize, head.Where("Intermediate"), "LatentHead.Intermediate", h.Intermediate));
                if (h.Kind == HeadKind.Deterministic && h.Loss == LatentLossKind.Nll)
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
                d.Add(Diagnose(Diagnostics.BadThoughtCount, root.Where(root.Has("MaxThoughts") ? "MaxThoughts" : "ThoughtsPerStep"), t.Max, t.PerStep));
            if (projector is not null && s.Projector is { } p && p.Intermediate < 0)
                d.Add(Diagnose(Diagnostics.NonPositiveSize, projector.Where("Intermediate"), "LatentProjector.Intermediate", p.Intermediate));
            if (teacher is not null && s.Teacher is { } te)
                NonNegative(teacher, "Weight", te.Weight, d);
            if (lora is not null && s.Lora is { } l)
            {
                if (l.Rank < 1 || (b.Hidden > 0 && l.Rank > b.Hidden) || l.Targets == 0)
                    d.Add(Diagnose(Diagnostics.BadLoraRank, lora.Where(l.Targets == 0 ? "Targets" : "Rank"), l.Rank, b.ClassName, b.Hidden));
                if (l.Alpha <= 0) d.Add(Diagnose(Diagnostics.OutOfRange, lora.Where("Alpha"), "Alpha", Num(l.Alpha), "it must be positive"));
            }
        }

        private static void Positive(AttributeArgs a, string property, int value, List<DiagnosticInfo> d)
        {
            if (value <= 0) d.Add(Diagnose(Diagnostics.NonPositiveSize, a.Where(property), property, value));
        }

        private static void NonNegative(AttributeArgs a, string property, double value, List<DiagnosticInfo> d)
        {
            if (value < 0 || double.IsNaN(value)) d.Add(Diagnose(Diagnostics.OutOfRange, a.Where(property), property, Num(value), "a weight cannot be negative"));
        }

        private static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    }
}
