using System.Collections.Generic;
using System.Linq;
using CoLaR.Generators.Helpers;
using CoLaR.Generators.Model;

namespace CoLaR.Generators
{
    internal static partial class Emitter
    {
        private const string M = "global::CoLaR.Modules.";

        /// <summary>Names the generated reasoner declares, or uses unqualified, inside the spec class (COLAR021).</summary>
        public static readonly IReadOnlyDictionary<string, string> ReasonerNames = Names(
            ("a nested class", new[] { "LatentHeadModule", "ProjectorModule" }),
            ("a member", new[] { "Spec", "Specification", "Backbone", "MergeGroups", "PredictLatent", "ProjectThought", "ComputeSftLoss",
                "Generate", "Register", "backbone", "latent_head", "projector" }),
            ("a TorchSharp name", TorchSharpNames));

        /// <summary>Reasoner spec → the module that composes the backbone with its heads, its spec as data, and its registration.</summary>
        public static string Reasoner(ReasonerSpec s)
        {
            var b = s.Backbone;
            var w = new SourceWriter();
            Header(w, s.Namespace, RootAttribute(s.Method), s.ClassName);
            using (s.Namespace.Length > 0 ? w.Block("namespace " + s.Namespace) : null)
            {
                w.Line("/// <summary>" + DescribeReasoner(s) + "</summary>");
                using (w.Block("partial class " + s.ClassName + " : " + M + "ReasonerModule"))
                {
                    SpecLiteral(w, s);
                    w.Line($"public override {M}ReasonerSpec Specification => Spec;");
                    w.Line();

                    w.Line("// Components. The backbone's tensors are saved under their checkpoint names, the heads' under these field names.");
                    w.Line($"private readonly {b.FullName} backbone;");
                    if (s.LatentHead is not null) w.Line("private readonly LatentHeadModule latent_head;");
                    if (s.Projector is not null) w.Line("private readonly ProjectorModule projector;");
                    w.Line();
                    using (w.Block($"public {s.ClassName}() : base(nameof({s.ClassName}))"))
                    {
                        w.Line("backbone = new();");
                        if (s.Lora is { } lora)
                            w.Line($"backbone.AddLora(Spec.Lora!);   // [Lora]: freezes the backbone's weights, adds rank-{lora.Rank} adapters to {LoraTargetList(lora.Targets, b.Family)}");
                        if (s.LatentHead is not null) w.Line("latent_head = new();");
                        if (s.Projector is not null) w.Line("projector = new();");
                        w.Line("RegisterComponents();");
                    }
                    w.Line();
                    w.Line($"public override {M}Backbone Backbone => backbone;");
                    w.Line();

                    if (s.Compression is { } c) Merge(w, c.Merge, b.Hidden);
                    if (s.LatentHead is not null)
                    {
                        w.Line($"/// <summary>Latent head: last hidden state [.., {b.Hidden}] → Normal over the next compressed embedding / embeds_std.</summary>");
                        w.Line($"public override {M}LatentDistribution PredictLatent(Tensor hidden) => latent_head.forward(hidden);");
                        w.Line();
                    }
                    if (s.Projector is not null)
                    {
                        w.Line($"/// <summary>Continuous thought: last hidden state [.., {b.Hidden}] → next input embedding, through the projector.</summary>");
                        w.Line("public override Tensor ProjectThought(Tensor hidden) => projector.forward(hidden);");
                        w.Line();
                    }

                    var (objective, inference) = Runtime(s.Method);
                    if (!s.UserSftLoss)
                    {
                        w.Line($"/// <summary>SFT objective for {RootAttribute(s.Method)} (CoLaR.Training.Objectives.{objective}).</summary>");
                        w.Line($"public override global::CoLaR.Training.SftLoss ComputeSftLoss(global::CoLaR.Training.SftBatch batch, global::CoLaR.Training.SftContext context) =>");
                        w.Line($"    global::CoLaR.Training.Objectives.{objective}(this, batch, context);");
                        w.Line();
                    }
                    if (!s.UserGenerate)
                    {
                        w.Line($"/// <summary>Inference for {RootAttribute(s.Method)} (CoLaR.Inference.{inference}).</summary>");
                        w.Line("public override global::CoLaR.Inference.GenerationResult Generate(global::CoLaR.Inference.GenerationRequest request) =>");
                        w.Line($"    global::CoLaR.Inference.{inference}.Generate(this, request);");
                        w.Line();
                    }

                    w.Line("/// <summary>Makes the model known to `colar list`, `colar train --model " + s.ClassName + "` and the registry.</summary>");
                    w.Line("[global::System.Runtime.CompilerServices.ModuleInitializer]");
                    w.Line($"internal static void Register() => {M}ModelRegistry.Register(Spec, typeof({s.ClassName}), static () => new {s.ClassName}());");

                    if (s.LatentHead is { } h) LatentHead(w, h, b.Hidden);
                    if (s.Projector is { } p) Projector(w, p, b.Hidden);
                }
            }
            return w.ToString();
        }

        private static string RootAttribute(Method method) => method switch
        {
            Method.CompressedLatent => "LatentReasoner",
            Method.ChainOfThought => "ChainOfThought",
            Method.ContinuousThought => "ContinuousThought",
            _ => "DirectAnswer",
        };

        private static (string Objective, string Inference) Runtime(Method method) => method switch
        {
            Method.CompressedLatent => ("CompressedLatent", "LatentInference"),
            Method.ChainOfThought => ("ChainOfThought", "TextInference"),
            Method.ContinuousThought => ("ContinuousThought", "ThoughtInference"),
            _ => ("DirectAnswer", "TextInference"),
        };

        private static string DescribeReasoner(ReasonerSpec s)
        {
            var parts = new List<string>();
            switch (s.Method)
            {
                case Method.CompressedLatent:
                    parts.Add($"Latent reasoner on {s.Backbone.ClassName}: compression c = {s.Compression!.Min}..{s.Compression.Max}, {s.Compression.Merge} merge");
                    if (s.LatentHead is { } h) parts.Add($"{h.Kind} latent head ({h.Intermediate}) trained with {h.Loss.ToString().ToUpperInvariant()}");
                    if (!s.Objective.CompressedLabels) parts.Add("CE on the answer only");
                    break;
                case Method.ChainOfThought:
                    parts.Add($"Chain of thought on {s.Backbone.ClassName}");
                    if (s.Curriculum is { } cu) parts.Add($"removing {cu.StepsPerStage} leading step(s) per stage every {cu.EpochsPerStage} epoch(s), {cu.MaxStages} stages");
                    break;
                case Method.ContinuousThought:
                    parts.Add($"Continuous thoughts on {s.Backbone.ClassName}: {s.Thoughts!.PerStep} per step, {s.Thoughts.Max} at most");
                    if (s.Curriculum is { } cc) parts.Add($"curriculum of {cc.MaxStages} stages, {cc.EpochsPerStage} epoch(s) each");
                    if (s.Projector is not null) parts.Add("MLP projector");
                    if (s.Teacher is { } t) parts.Add($"teacher alignment ({t.Loss}, weight {Invariant(t.Weight)})");
                    break;
                default:
                    parts.Add($"Direct answer (no reasoning steps) on {s.Backbone.ClassName}");
                    break;
            }
            if (s.Lora is { } l) parts.Add($"LoRA r={l.Rank}");
            return string.Join(", ", parts) + ".";
        }

        private static void SpecLiteral(SourceWriter w, ReasonerSpec s)
        {
            w.Line("/// <summary>The spec as data, for the trainers, inference and the command line.</summary>");
            w.Line($"public static {M}ReasonerSpec Spec {{ get; }} = new(");
            w.Indent();
            var args = new List<string>
            {
                $"Name: {Literal.String(s.ClassName)}",
                $"Method: {M}ReasoningMethod.{RuntimeMethod(s.Method)}",
                $"Backbone: {s.Backbone.FullName}.Spec",
                $"Tokenizer: {Literal.String(s.Tokenizer)}",
                $"MaxLatentSteps: {s.MaxLatentSteps}",
                $"MaxAnswerTokens: {s.MaxAnswerTokens}",
                s.Compression is { } c
                    ? $"Compression: new(Min: {c.Min}, Max: {c.Max}, AutoSpeedProbability: {Literal.Double(c.AutoSpeedProbability)}, Merge: global::CoLaR.Specs.Merge.{c.Merge})"
                    : "Compression: null",
                s.LatentHead is { } h
                    ? $"LatentHead: new(Intermediate: {h.Intermediate}, Kind: global::CoLaR.Specs.LatentHeadKind.{h.Kind}, Loss: global::CoLaR.Specs.LatentLoss.{h.Loss})"
                    : "LatentHead: null",
                $"Objective: new(CeWeight: {Literal.Double(s.Objective.CeWeight)}, LatentWeight: {Literal.Double(s.Objective.LatentWeight)}, " +
                    $"EntropyWeight: {Literal.Double(s.Objective.EntropyWeight)}, CompressedLabels: {Literal.Bool(s.Objective.CompressedLabels)})",
            };
            if (s.Curriculum is { } cu) args.Add($"Curriculum: new(StepsPerStage: {cu.StepsPerStage}, EpochsPerStage: {cu.EpochsPerStage}, MaxStages: {cu.MaxStages}, ResetOptimizer: {Literal.Bool(cu.ResetOptimizer)})");
            if (s.Thoughts is { } t) args.Add($"Thoughts: new(PerStep: {t.PerStep}, Max: {t.Max})");
            if (s.Projector is { } p) args.Add($"Projector: new(Intermediate: {p.Intermediate}, LayerNorm: {Literal.Bool(p.LayerNorm)})");
            if (s.Teacher is { } te) args.Add($"Teacher: new(Weight: {Literal.Double(te.Weight)}, Loss: global::CoLaR.Specs.AlignmentLoss.{te.Loss}, Normalize: {Literal.Bool(te.Normalize)})");
            if (s.Lora is { } l) args.Add($"Lora: new(Rank: {l.Rank}, Alpha: {Literal.Double(l.Alpha)}, Targets: {LoraTargets(l.Targets)})");
            for (int i = 0; i < args.Count; i++) w.Line(args[i] + (i == args.Count - 1 ? ");" : ","));
            w.Outdent();
            w.Line();
        }

        private static string RuntimeMethod(Method method) => method.ToString();

        /// <summary>LoRA targets as the flags a user writes: "LoraTargets.All", "LoraTargets.Attention | LoraTargets.Up".</summary>
        internal static string LoraTargets(int targets)
        {
            var names = new List<string>();
            foreach (var (name, bits) in LoraFlags)
                if ((targets & bits) == bits && bits != 0)
                {
                    names.Add("global::CoLaR.Specs.LoraTargets." + name);
                    targets &= ~bits;
                }
            if (targets != 0 || names.Count == 0) names.Add("(global::CoLaR.Specs.LoraTargets)(" + targets + ")"); // unreachable after COLAR018/019
            return string.Join(" | ", names);
        }

        /// <summary>The projections adapted, in the family's names: "q, k, v, o, gate, up, down" or GPT-2's "c_attn, attn.c_proj, c_fc, mlp.c_proj".</summary>
        private static string LoraTargetList(int targets, Family family)
        {
            var names = new List<string>();
            bool Has(int bit) => (targets & bit) != 0;
            if (family == Family.Gpt2)
            {
                if (Has(7)) names.Add("c_attn");
                if (Has(8)) names.Add("attn.c_proj");
                if (Has(32)) names.Add("c_fc");
                if (Has(64)) names.Add("mlp.c_proj");
            }
            else
            {
                string[] all = { "q", "k", "v", "o", "gate", "up", "down" };
                for (int i = 0; i < all.Length; i++)
                    if (Has(1 << i)) names.Add(all[i]);
            }
            return string.Join(", ", names);
        }

        /// <summary>The LoraTargets members, composites first (the runtime enum's values).</summary>
        internal static readonly (string Name, int Bits)[] LoraFlags =
        {
            ("All", 127), ("Attention", 15), ("Mlp", 112), ("Q", 1), ("K", 2), ("V", 4), ("O", 8), ("Gate", 16), ("Up", 32), ("Down", 64),
        };

        private static void Merge(SourceWriter w, MergeKind merge, int hidden)
        {
            string summary = merge switch
            {
                MergeKind.Sum => "Sum merge: the sum of a group's real token embeddings.",
                MergeKind.Mean => "Mean merge: the mean of a group's real token embeddings.",
                _ => "Sqrt-mean merge: the sum of a group's real token embeddings divided by √(real tokens), which keeps their scale.",
            };
            string result = merge switch
            {
                MergeKind.Sum => "sum",
                MergeKind.Mean => "(sum / count)",
                _ => "(sum / count.sqrt())",
            };
            w.Lines($$"""
                /// <summary>{{summary}}</summary>
                public override Tensor MergeGroups(Tensor groups, Tensor realMask)
                {
                    using var scope = torch.NewDisposeScope();
                    var mask = realMask.to(groups.dtype).unsqueeze(-1);           // [N, c, 1]
                    var sum = (groups * mask).sum(1);                             // [N, {{hidden}}]
                """);
            if (merge != MergeKind.Sum)
                w.Line("    var count = mask.sum(1).clamp_min(1);                         // [N, 1] real tokens per group");
            w.Lines($$"""
                    {{("return " + result + ".MoveToOuterDisposeScope();").PadRight(61)}} // [N, {{hidden}}]
                }

                """);
        }

        private static void LatentHead(SourceWriter w, LatentHeadSpec h, int hidden)
        {
            bool gaussian = h.Kind == HeadKind.Gaussian;
            w.Line();
            w.Lines($$"""
                /// <summary>Linear({{hidden}}, {{h.Intermediate}}) → GELU → Linear({{h.Intermediate}}, {{h.Intermediate}}) → LayerNorm → mean{{(gaussian ? " and log-std" : " (deterministic: std ≈ 0)")}} Linear({{h.Intermediate}}, {{hidden}}).</summary>
                private sealed class LatentHeadModule : nn.Module<Tensor, {{M}}LatentDistribution>
                {
                    internal readonly Linear fc1 = nn.Linear({{hidden}}, {{h.Intermediate}});
                    internal readonly Linear fc2 = nn.Linear({{h.Intermediate}}, {{h.Intermediate}});
                    internal readonly LayerNorm norm = nn.LayerNorm({{h.Intermediate}});
                    internal readonly Linear mean = nn.Linear({{h.Intermediate}}, {{hidden}});
                """);
            if (gaussian) w.Line($"    internal readonly Linear log_std = nn.Linear({h.Intermediate}, {hidden});");
            w.Lines($$"""

                    public LatentHeadModule() : base("latent_head") => RegisterComponents();

                    public override {{M}}LatentDistribution forward(Tensor hidden)
                    {
                        using var scope = torch.NewDisposeScope();
                        var x = norm.forward(fc2.forward(F.gelu(fc1.forward(hidden))));  // [.., {{h.Intermediate}}]
                        var mu = mean.forward(x).MoveToOuterDisposeScope();                 // [.., {{hidden}}]
                """);
            if (gaussian)
                w.Lines($$"""
                            var logStd = log_std.forward(x)                                     // [.., {{hidden}}], clamped: see MinLogStd
                                .clamp({{M}}LatentDistribution.MinLogStd, {{M}}LatentDistribution.MaxLogStd).MoveToOuterDisposeScope();
                            return new(mu, logStd);
                    """);
            else
                w.Line("        return new(mu, null);");
            w.Line("    }");
            w.Line("}");
        }

        private static void Projector(SourceWriter w, ProjectorSpec p, int hidden)
        {
            w.Line();
            w.Lines($$"""
                /// <summary>Projector: Linear({{hidden}}, {{p.Intermediate}}) → GELU → Linear({{p.Intermediate}}, {{hidden}}){{(p.LayerNorm ? " → LayerNorm" : "")}}.</summary>
                private sealed class ProjectorModule : nn.Module<Tensor, Tensor>
                {
                    internal readonly Linear fc1 = nn.Linear({{hidden}}, {{p.Intermediate}});
                    internal readonly Linear fc2 = nn.Linear({{p.Intermediate}}, {{hidden}});
                """);
            if (p.LayerNorm) w.Line($"    internal readonly LayerNorm norm = nn.LayerNorm({hidden});");
            w.Lines($$"""

                    public ProjectorModule() : base("projector") => RegisterComponents();

                    public override Tensor forward(Tensor hidden) =>
                        {{(p.LayerNorm ? "norm.forward(fc2.forward(F.gelu(fc1.forward(hidden))))" : "fc2.forward(F.gelu(fc1.forward(hidden)))")}};  // [.., {{hidden}}]
                }
                """);
        }
    }
}
