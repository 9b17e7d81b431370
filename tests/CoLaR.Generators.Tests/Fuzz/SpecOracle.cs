using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CoLaR.Generators.Tests.Fuzz;

public enum Verdict { Valid, Invalid, Unknown }

/// <summary>
/// An independent judge of spec sources: written from the spec language's rules (docs/spec-language.md),
/// sharing no code with the generator. It reads the attributes from the syntax alone and says whether
/// the specs are valid, invalid (the build must fail), or unknown (text it cannot evaluate).
/// </summary>
public static class SpecOracle
{
    public enum Kind { Int, Double, Bool, String, Type, Enum }

    /// <summary>Every attribute's properties and their kinds (enum properties name their enum).</summary>
    public static readonly Dictionary<string, Dictionary<string, (Kind Kind, string? Enum)>> Properties = Build();

    static Dictionary<string, Dictionary<string, (Kind, string?)>> Build()
    {
        (Kind, string?) I = (Kind.Int, null), D = (Kind.Double, null), B = (Kind.Bool, null), S = (Kind.String, null);
        var backbone = new Dictionary<string, (Kind, string?)>
        {
            ["Vocab"] = I, ["Hidden"] = I, ["Layers"] = I, ["Heads"] = I, ["Intermediate"] = I, ["MaxPositions"] = I, ["NormEps"] = D, ["TieEmbeddings"] = B,
        };
        var rotary = new Dictionary<string, (Kind, string?)>(backbone)
        {
            ["KvHeads"] = I, ["HeadDim"] = I, ["RopeTheta"] = D, ["RopeScaling"] = D, ["RopeLowFreqFactor"] = D, ["RopeHighFreqFactor"] = D, ["RopeOriginalMaxPositions"] = I,
        };
        var root = new Dictionary<string, (Kind, string?)> { ["Tokenizer"] = S, ["MaxLatentSteps"] = I, ["MaxAnswerTokens"] = I };
        return new()
        {
            ["Llama"] = rotary, ["Qwen2"] = rotary, ["Qwen3"] = rotary, ["Gpt2"] = backbone,
            ["LatentReasoner"] = new(root) { ["MinCompression"] = I, ["MaxCompression"] = I, ["AutoSpeedProbability"] = D },
            ["ChainOfThought"] = root, ["DirectAnswer"] = root,
            ["ContinuousThought"] = new(root) { ["ThoughtsPerStep"] = I, ["MaxThoughts"] = I },
            ["CompressionMerger"] = new() { ["Width"] = I },
            ["LatentHead"] = new() { ["Intermediate"] = I, ["Output"] = I, ["Kind"] = (Kind.Enum, "LatentHeadKind"), ["Loss"] = (Kind.Enum, "LatentLoss") },
            ["Objective"] = new() { ["CeWeight"] = D, ["LatentWeight"] = D, ["EntropyWeight"] = D, ["CompressedLabels"] = B },
            ["Curriculum"] = new() { ["StepsPerStage"] = I, ["EpochsPerStage"] = I, ["MaxStages"] = I, ["ResetOptimizer"] = B },
            ["LatentProjector"] = new() { ["Intermediate"] = I, ["LayerNorm"] = B },
            ["TeacherAlignment"] = new() { ["Weight"] = D, ["Loss"] = (Kind.Enum, "AlignmentLoss"), ["Normalize"] = B },
            ["Lora"] = new() { ["Rank"] = I, ["Alpha"] = D, ["Targets"] = (Kind.Enum, "LoraTargets") },
        };
    }

    public static readonly string[] Backbones = ["Llama", "Qwen2", "Qwen3", "Gpt2"];
    public static readonly string[] Roots = ["LatentReasoner", "ChainOfThought", "DirectAnswer", "ContinuousThought"];

    static readonly Dictionary<string, string[]> AcceptedBy = new()
    {
        ["CompressionMerger"] = ["LatentReasoner"], ["LatentHead"] = ["LatentReasoner"], ["Objective"] = Roots,
        ["Curriculum"] = ["ChainOfThought", "ContinuousThought"], ["LatentProjector"] = ["ContinuousThought"],
        ["TeacherAlignment"] = ["ContinuousThought"], ["Lora"] = Roots,
    };

    static readonly Dictionary<string, Dictionary<string, long>> Enums = new()
    {
        ["Merge"] = new() { ["Sum"] = 0, ["SqrtMean"] = 1, ["Mean"] = 2 },
        ["LatentHeadKind"] = new() { ["Gaussian"] = 0, ["Deterministic"] = 1 },
        ["LatentLoss"] = new() { ["Mse"] = 0, ["Nll"] = 1 },
        ["AlignmentLoss"] = new() { ["SmoothL1"] = 0, ["L1"] = 1, ["Mse"] = 2 },
        ["LoraTargets"] = new() { ["None"] = 0, ["Q"] = 1, ["K"] = 2, ["V"] = 4, ["O"] = 8, ["Gate"] = 16, ["Up"] = 32, ["Down"] = 64, ["Attention"] = 15, ["Mlp"] = 112, ["All"] = 127 },
    };

    /// <summary>Class names the generated code also uses, per role (a spec class may not take them).</summary>
    static readonly string[] TorchSharpNames = ["Tensor", "Linear", "Embedding", "LayerNorm", "ModuleList", "F", "nn", "torch", "TorchSharp", "Enumerable", "IEnumerable"];

    static readonly HashSet<string> ReservedForBackbones =
    [
        "Decoder", "DecoderLayer", "Block", "SelfAttention", "Mlp", "Vocab", "Hidden", "Layers", "Heads", "KvHeads", "HeadDim", "Intermediate",
        "MaxPositions", "QSize", "KvSize", "KvGroups", "Spec", "Config", "EmbeddingTable", "Embed", "Forward", "Logits", "CheckpointTensors",
        "model", "transformer", "lm_head", "rope", .. TorchSharpNames,
    ];

    static readonly HashSet<string> ReservedForReasoners =
    [
        "LatentHeadModule", "ProjectorModule", "Spec", "Specification", "Backbone", "MergeGroups", "PredictLatent", "ProjectThought",
        "ComputeSftLoss", "Generate", "Register", "backbone", "latent_head", "projector", .. TorchSharpNames,
    ];

    sealed class Attr(string name)
    {
        public string Name { get; } = name;
        public List<object?> Positional { get; } = [];
        public Dictionary<string, object?> Named { get; } = [];
        public bool Broken { get; set; }
        public double D(string p, double fallback) => Named.TryGetValue(p, out var v) ? Convert.ToDouble(v) : fallback;
        public long I(string p, long fallback) => Named.TryGetValue(p, out var v) ? Convert.ToInt64(v) : fallback;
        public bool Has(string p) => Named.ContainsKey(p);
    }

    sealed record Spec(string Name, List<Attr> Attrs, bool Partial, bool Nested, bool Generic, bool Record, bool HasBase);

    /// <summary>Judges all files together (a reasoner's backbone may be in another file).</summary>
    public static Verdict Judge(IEnumerable<SourceFile> files)
    {
        var specs = new List<Spec>();
        foreach (var file in files)
        {
            var tree = CSharpSyntaxTree.ParseText(file.Text, GeneratorHarness.ParseOptions);
            if (tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error)) return Verdict.Invalid; // the compiler fails
            foreach (var type in tree.GetRoot().DescendantNodes().OfType<TypeDeclarationSyntax>())
            {
                var attrs = new List<Attr>();
                foreach (var a in type.AttributeLists.SelectMany(l => l.Attributes))
                {
                    var name = a.Name.ToString();
                    if (name.EndsWith("Attribute", StringComparison.Ordinal)) name = name[..^"Attribute".Length];
                    if (!Properties.ContainsKey(name)) return Verdict.Unknown;
                    var attr = Read(a, name);
                    if (attr is null) return Verdict.Unknown;
                    attrs.Add(attr);
                }
                if (attrs.Count == 0)
                {
                    // The extension points override generated base members: without a spec there is no base.
                    if (type.BaseList is null && type.Members.Any(m => m.Modifiers.Any(SyntaxKind.OverrideKeyword))) return Verdict.Invalid;
                    continue;
                }
                specs.Add(new Spec(type.Identifier.ValueText, attrs,
                    type.Modifiers.Any(SyntaxKind.PartialKeyword), type.Parent is TypeDeclarationSyntax,
                    type.TypeParameterList is not null, type is RecordDeclarationSyntax, type.BaseList is not null));
            }
        }
        var byName = specs.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.ToList());
        if (byName.Values.Any(g => g.Count > 1)) return Verdict.Unknown; // partial parts or duplicate names: out of scope
        bool invalid = specs.Any(s => !SpecValid(s, byName));
        return invalid ? Verdict.Invalid : Verdict.Valid;
    }

    /// <summary>Number of classes a valid set of specs generates a file for.</summary>
    public static int SpecClasses(IEnumerable<SourceFile> files) =>
        files.Sum(f => CSharpSyntaxTree.ParseText(f.Text, GeneratorHarness.ParseOptions).GetRoot().DescendantNodes().OfType<TypeDeclarationSyntax>()
            .Count(t => t.AttributeLists.SelectMany(l => l.Attributes).Any(a => Backbones.Contains(a.Name.ToString()) || Roots.Contains(a.Name.ToString()))));

    static Attr? Read(AttributeSyntax syntax, string name)
    {
        var attr = new Attr(name);
        var props = Properties[name];
        foreach (var arg in syntax.ArgumentList?.Arguments ?? default)
        {
            if (arg.NameColon is not null) return null;
            if (!TryEvaluate(arg.Expression, out var value)) return null;
            if (arg.NameEquals is { } ne)
            {
                var prop = ne.Name.Identifier.ValueText;
                if (!props.TryGetValue(prop, out var kind) || attr.Named.ContainsKey(prop) || !Fits(kind, value)) attr.Broken = true; // compile error
                else attr.Named[prop] = value is EnumValue e ? e.Value : value;
            }
            else attr.Positional.Add(value);
        }
        // Constructor arguments: a root takes one typeof (or null), the merger one optional Merge, the others none.
        int positional = attr.Positional.Count;
        if (Roots.Contains(name))
        {
            if (positional != 1 || attr.Positional[0] is not (TypeName or null)) attr.Broken = true;
        }
        else if (name == "CompressionMerger")
        {
            if (positional > 1 || (positional == 1 && attr.Positional[0] is not EnumValue { Enum: "Merge" })) attr.Broken = true;
            else if (positional == 1) attr.Positional[0] = ((EnumValue)attr.Positional[0]!).Value;
        }
        else if (positional != 0) attr.Broken = true;
        return attr;
    }

    sealed record TypeName(string Name);
    sealed record EnumValue(string Enum, long Value);

    static bool Fits((Kind Kind, string? Enum) kind, object? value) => kind.Kind switch
    {
        Kind.Int => value is long l && l is >= int.MinValue and <= int.MaxValue,
        Kind.Double => value is long or double,
        Kind.Bool => value is bool,
        Kind.String => value is string or null,
        Kind.Enum => value is EnumValue e && e.Enum == kind.Enum,
        _ => false,
    };

    /// <summary>Literals, negation, <c>1 &lt;&lt; n</c>, <c>int.MaxValue</c>, <c>double.NaN</c>, enum members and casts, <c>|</c>, <c>typeof</c>.</summary>
    static bool TryEvaluate(ExpressionSyntax e, out object? value)
    {
        value = null;
        switch (e)
        {
            case LiteralExpressionSyntax lit:
                value = lit.Token.Value switch { int i => (long)i, uint u => (long)u, long l => l, float f => (double)f, double d => d, decimal m => (double)m, var v => v };
                return lit.Token.Value is not ulong;
            case ParenthesizedExpressionSyntax p:
                return TryEvaluate(p.Expression, out value);
            case PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.UnaryMinusExpression } neg when TryEvaluate(neg.Operand, out var v):
                value = v switch { long l => -l, double d => -d, _ => null };
                return value is not null;
            case BinaryExpressionSyntax { RawKind: (int)SyntaxKind.LeftShiftExpression } shift
                when TryEvaluate(shift.Left, out var l) && TryEvaluate(shift.Right, out var r) && l is long a && r is long b:
                value = (long)((int)a << (int)b);
                return true;
            case BinaryExpressionSyntax { RawKind: (int)SyntaxKind.BitwiseOrExpression } bitOr
                when TryEvaluate(bitOr.Left, out var l) && TryEvaluate(bitOr.Right, out var r) && l is EnumValue x && r is EnumValue y && x.Enum == y.Enum:
                value = new EnumValue(x.Enum, x.Value | y.Value);
                return true;
            case MemberAccessExpressionSyntax m:
                var (owner, member) = (m.Expression.ToString(), m.Name.Identifier.ValueText);
                if (owner == "int" && member == "MaxValue") { value = (long)int.MaxValue; return true; }
                if (owner == "int" && member == "MinValue") { value = (long)int.MinValue; return true; }
                if (owner == "double")
                {
                    value = member switch { "NaN" => double.NaN, "PositiveInfinity" => double.PositiveInfinity, "NegativeInfinity" => double.NegativeInfinity, "MaxValue" => double.MaxValue, _ => null };
                    return value is not null;
                }
                if (Enums.TryGetValue(owner, out var members) && members.TryGetValue(member, out var ev)) { value = new EnumValue(owner, ev); return true; }
                return false;
            case CastExpressionSyntax cast when Enums.ContainsKey(cast.Type.ToString()) && TryEvaluate(cast.Expression, out var n) && n is long number:
                value = new EnumValue(cast.Type.ToString(), number);
                return true;
            case TypeOfExpressionSyntax t:
                value = new TypeName(t.Type.ToString());
                return true;
            default:
                return false;
        }
    }

    // ---------------------------------------------------------------- the rules

    static bool SpecValid(Spec s, Dictionary<string, List<Spec>> all)
    {
        if (s.Attrs.Any(a => a.Broken)) return false;
        if (s.Attrs.GroupBy(a => a.Name).Any(g => g.Count() > 1)) return false; // AllowMultiple = false
        var backbones = s.Attrs.Where(a => Backbones.Contains(a.Name)).ToList();
        var roots = s.Attrs.Where(a => Roots.Contains(a.Name)).ToList();
        var components = s.Attrs.Where(a => AcceptedBy.ContainsKey(a.Name)).ToList();
        if (backbones.Count + roots.Count > 1) return false;
        if (backbones.Count + roots.Count == 0) return components.Count == 0;
        if (!s.Partial || s.Nested || s.Generic || s.Record || s.HasBase) return false;
        if ((backbones.Count == 1 ? ReservedForBackbones : ReservedForReasoners).Contains(s.Name)) return false;
        if (backbones.Count == 1) return components.Count == 0 && BackboneValid(backbones[0]); // a component needs a root
        var root = roots[0];
        if (components.Any(c => !AcceptedBy[c.Name].Contains(root.Name))) return false;
        if (root.Positional[0] is not TypeName { Name: var backboneName } || !all.TryGetValue(backboneName, out var target)) return false;
        var backbone = target[0];
        var backboneAttrs = backbone.Attrs.Where(a => Backbones.Contains(a.Name)).ToList();
        if (backboneAttrs.Count != 1 || !SpecValid(backbone, all)) return false;
        return ReasonerValid(root, components, backboneAttrs[0]);
    }

    static bool BackboneValid(Attr a)
    {
        bool gpt2 = a.Name == "Gpt2";
        long vocab = a.I("Vocab", 0), hidden = a.I("Hidden", 0), layers = a.I("Layers", 0), heads = a.I("Heads", 0);
        long intermediate = a.I("Intermediate", 0), maxPositions = a.I("MaxPositions", gpt2 ? 1024 : 2048);
        long kvHeads = a.I("KvHeads", 0), headDim = a.I("HeadDim", 0);
        if (vocab <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || maxPositions <= 0 || kvHeads < 0 || headDim < 0) return false;
        if (gpt2 && intermediate == 0) intermediate = 4 * hidden;
        if (intermediate <= 0 || intermediate > int.MaxValue) return false;
        if (headDim == 0)
        {
            if (hidden % heads != 0) return false;
            headDim = hidden / heads;
        }
        if (kvHeads == 0) kvHeads = heads;
        if (heads % kvHeads != 0) return false;
        if (!gpt2 && headDim % 2 != 0) return false;
        long fused = gpt2 ? 3 * heads * headDim : heads * headDim + 2 * kvHeads * headDim;
        if (fused > int.MaxValue || (!gpt2 && 2 * intermediate > int.MaxValue)) return false;
        if (!Positive(a.D("NormEps", 1e-5))) return false;
        if (!gpt2)
        {
            if (!Positive(a.D("RopeTheta", 10_000))) return false;
            double scaling = a.D("RopeScaling", 0), low = a.D("RopeLowFreqFactor", 1), high = a.D("RopeHighFreqFactor", 4);
            if (!double.IsFinite(scaling) || !double.IsFinite(low) || !double.IsFinite(high)) return false;
            if (scaling != 0 && (scaling < 1 || low <= 0 || low >= high || a.I("RopeOriginalMaxPositions", 8192) <= 0)) return false;
        }
        return true;
    }

    static bool ReasonerValid(Attr root, List<Attr> components, Attr backbone)
    {
        long hidden = backbone.I("Hidden", 0);
        Attr? C(string name) => components.FirstOrDefault(c => c.Name == name);
        if (root.I("MaxLatentSteps", 64) <= 0 || root.I("MaxAnswerTokens", 16) <= 0) return false;
        var tokenizer = root.Named.TryGetValue("Tokenizer", out var t) ? t ?? "embedded" : "embedded";
        if (tokenizer is not ("embedded" or "checkpoint")) return false;
        if (tokenizer is "embedded" && EmbeddedVocabulary > 0 && backbone.I("Vocab", 0) < EmbeddedVocabulary) return false;
        switch (root.Name)
        {
            case "LatentReasoner":
                if (C("CompressionMerger") is not { } merger || C("LatentHead") is not { } head) return false;
                long min = root.I("MinCompression", 1), max = root.I("MaxCompression", 5);
                if (min < 1 || min > max) return false;
                double p = root.D("AutoSpeedProbability", 0);
                if (!(p >= 0 && p <= 1)) return false;
                if (merger.Positional.Count == 1 && merger.Positional[0] is long m && m is < 0 or > 2) return false;
                if (merger.I("Width", 0) is var w && w != 0 && w != hidden) return false;
                if (head.I("Output", 0) is var o && o != 0 && o != hidden) return false;
                if (head.I("Intermediate", 0) < 0) return false;
                long kind = head.I("Kind", 0), loss = head.I("Loss", 0);
                if (kind is < 0 or > 1 || loss is < 0 or > 1 || (kind == 1 && loss == 1)) return false;
                break;
            case "ContinuousThought":
                long perStep = root.I("ThoughtsPerStep", 2), most = root.I("MaxThoughts", 6);
                if (perStep <= 0 || most <= 0 || most % perStep != 0) return false;
                break;
        }
        if (C("Objective") is { } objective && !new[] { "CeWeight", "LatentWeight", "EntropyWeight" }.All(w => NonNegative(objective.D(w, 0)))) return false;
        if (C("Curriculum") is { } curriculum && new[] { "StepsPerStage", "EpochsPerStage", "MaxStages" }.Any(x => curriculum.I(x, 1) <= 0)) return false;
        if (C("LatentProjector") is { } projector && projector.I("Intermediate", 0) < 0) return false;
        if (C("TeacherAlignment") is { } teacher && (!NonNegative(teacher.D("Weight", 20)) || teacher.I("Loss", 0) is < 0 or > 2)) return false;
        if (C("Lora") is { } lora)
        {
            long rank = lora.I("Rank", 128), targets = lora.I("Targets", 127);
            if (rank < 1 || rank > hidden || targets == 0 || (targets & ~127L) != 0 || !Positive(lora.D("Alpha", 32))) return false;
            // GPT-2's fused c_attn is adapted as a whole: Q, K and V together or not at all.
            if (backbone.Name == "Gpt2" && (targets & 7) is not (0 or 7)) return false;
        }
        return true;
    }

    /// <summary>The embedded tokenizer's size, when the runtime declares one (CoLaR.Text.EmbeddedVocabulary.Size).</summary>
    static readonly int EmbeddedVocabulary =
        typeof(CoLaR.Specs.LlamaAttribute).Assembly.GetType("CoLaR.Text.EmbeddedVocabulary")?.GetField("Size")?.GetRawConstantValue() is int size ? size : 0;

    static bool Positive(double x) => double.IsFinite(x) && x > 0;
    static bool NonNegative(double x) => double.IsFinite(x) && x >= 0;
}
