using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CoLaR.Generators.Helpers;
using CoLaR.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CoLaR.Generators
{
    /// <summary>What one spec class parsed into: a spec to emit (null when it has errors) and its diagnostics.</summary>
    internal sealed record ParseResult<TSpec>(TSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics) where TSpec : class;

    /// <summary>
    /// Symbols → specs. Reads the attributes on a class (and, for a reasoner, on its backbone class),
    /// fills in defaults, and asks <see cref="ShapeChecker"/> for diagnostics. Never throws on malformed
    /// input: what cannot be read is treated as not given.
    /// </summary>
    internal static class Parser
    {
        public const string BackboneBase = "global::CoLaR.Modules.Backbone";
        public const string ReasonerBase = "global::CoLaR.Modules.ReasonerModule";

        // ---- Backbones ----

        public static ParseResult<BackboneSpec>? ParseBackbone(GeneratorAttributeSyntaxContext context, string attribute, CancellationToken cancellation)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type || IsHalfTyped(context.TargetNode)) return null;
            var attributes = AttributeArgs.Read(type);
            var own = attributes.FirstOrDefault(a => SpecNames.Backbones.Contains(a.Name));
            if (own is null || own.Name != attribute) return null; // the first backbone attribute's pipeline owns the class
            if (attributes.Any(a => a.IsBroken)) return null;     // the compiler speaks first
            cancellation.ThrowIfCancellationRequested();

            var diagnostics = new List<DiagnosticInfo>();
            var spec = CheckedBackbone(type, attributes, own, ClassLocation(context.TargetNode), diagnostics, cancellation);
            return new ParseResult<BackboneSpec>(HasErrors(diagnostics) ? null : spec, diagnostics.ToEquatableArray());
        }

        /// <summary>
        /// The backbone spec of a class with every diagnostic about it: the class itself, conflicting
        /// attributes, the sizes. A reasoner calls it too (with no location) to know whether code was
        /// generated for its backbone.
        /// </summary>
        private static BackboneSpec CheckedBackbone(INamedTypeSymbol type, List<AttributeArgs> attributes, AttributeArgs own,
            LocationInfo? at, List<DiagnosticInfo> diagnostics, CancellationToken cancellation)
        {
            CheckClass(type, at, own.Name, BackboneBase, "backbone", Emitter.BackboneNames, diagnostics, cancellation);
            foreach (var other in attributes.Where(a => a != own && (SpecNames.Backbones.Contains(a.Name) || SpecNames.Roots.Contains(a.Name))))
                diagnostics.Add(Diagnose(Diagnostics.Duplicate, other.Location, type.Name, own.Name, other.Name,
                    SpecNames.Backbones.Contains(other.Name) ? "backbone" : "role (backbone or reasoner)"));
            return BuildBackbone(type, own, diagnostics);
        }

        /// <summary>The backbone spec of a class (defaults resolved), with its shape diagnostics added to <paramref name="diagnostics"/>.</summary>
        private static BackboneSpec BuildBackbone(INamedTypeSymbol type, AttributeArgs a, List<DiagnosticInfo> diagnostics)
        {
            var family = a.Name switch { "Qwen2" => Family.Qwen2, "Qwen3" => Family.Qwen3, "Gpt2" => Family.Gpt2, _ => Family.Llama };
            bool gpt2 = family == Family.Gpt2;
            int hidden = a.Int("Hidden", 0), heads = a.Int("Heads", 0);
            int kvHeads = gpt2 ? heads : a.Int("KvHeads", 0);
            int headDim = gpt2 ? 0 : a.Int("HeadDim", 0);
            int intermediate = a.Int("Intermediate", 0);
            long gpt2Intermediate = 4L * hidden; // GPT-2's default; may not fit an int (COLAR019)
            var spec = new BackboneSpec(
                Namespace: NamespaceOf(type),
                ClassName: type.Name,
                Family: family,
                Vocab: a.Int("Vocab", 0),
                Hidden: hidden,
                Layers: a.Int("Layers", 0),
                Heads: heads,
                KvHeads: kvHeads == 0 ? heads : kvHeads,
                HeadDim: headDim != 0 ? headDim : heads > 0 && hidden % heads == 0 ? hidden / heads : 0,
                Intermediate: gpt2 && intermediate == 0 ? (int)System.Math.Max(int.MinValue, System.Math.Min(int.MaxValue, gpt2Intermediate)) : intermediate,
                MaxPositions: a.Int("MaxPositions", gpt2 ? 1024 : 2048),
                NormEps: a.Double("NormEps", 1e-5),
                TieEmbeddings: a.Bool("TieEmbeddings", gpt2),
                RopeTheta: gpt2 ? 0 : a.Double("RopeTheta", 10_000),
                RopeScaling: gpt2 ? 0 : a.Double("RopeScaling", 0),
                RopeLowFreqFactor: a.Double("RopeLowFreqFactor", 1),
                RopeHighFreqFactor: a.Double("RopeHighFreqFactor", 4),
                RopeOriginalMaxPositions: a.Int("RopeOriginalMaxPositions", 8192));
            ShapeChecker.CheckBackbone(spec, a, explicitKvHeads: kvHeads, explicitHeadDim: headDim, explicitIntermediate: intermediate, diagnostics);
            return spec;
        }

        // ---- Reasoners ----

        public static ParseResult<ReasonerSpec>? ParseReasoner(GeneratorAttributeSyntaxContext context, string attribute, CancellationToken cancellation)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type || IsHalfTyped(context.TargetNode)) return null;
            var attributes = AttributeArgs.Read(type);
            var root = attributes.FirstOrDefault(a => SpecNames.Roots.Contains(a.Name));
            if (root is null || root.Name != attribute) return null;
            if (attributes.Any(a => SpecNames.Backbones.Contains(a.Name))) return null; // reported by the backbone pipeline
            if (attributes.Any(a => a.IsBroken)) return null;                          // the compiler speaks first
            cancellation.ThrowIfCancellationRequested();

            var diagnostics = new List<DiagnosticInfo>();
            CheckClass(type, ClassLocation(context.TargetNode), root.Name, ReasonerBase, "reasoner", Emitter.ReasonerNames, diagnostics, cancellation);
            foreach (var other in attributes.Where(a => a != root && SpecNames.Roots.Contains(a.Name)))
                diagnostics.Add(Diagnose(Diagnostics.Duplicate, other.Location, type.Name, root.Name, other.Name, "reasoner root"));

            var components = new Dictionary<string, AttributeArgs>();
            foreach (var c in attributes.Where(a => SpecNames.Components.Contains(a.Name)))
            {
                if (!SpecNames.AcceptedBy[c.Name].Contains(root.Name))
                    diagnostics.Add(Diagnose(Diagnostics.ComponentNotApplicable, c.Location, c.Name, type.Name, RootList(SpecNames.AcceptedBy[c.Name])));
                else if (!components.ContainsKey(c.Name))
                    components[c.Name] = c;
            }

            // The backbone: a class carrying a backbone attribute, here or in a referenced assembly.
            var backboneType = root.PositionalType(0);
            if (!root.HasPositional(0) || (backboneType is not null && HasErrors(backboneType)))
                return new ParseResult<ReasonerSpec>(null, diagnostics.ToEquatableArray()); // the compiler reports the typo
            var backboneAttributes = backboneType is INamedTypeSymbol named ? AttributeArgs.Read(named) : new List<AttributeArgs>();
            var backboneArgs = backboneAttributes.FirstOrDefault(a => SpecNames.Backbones.Contains(a.Name));
            if (backboneArgs is null)
            {
                // typeof(int), typeof(int[]), typeof(SomeReasoner), or null.
                diagnostics.Add(Diagnose(Diagnostics.NotABackbone, root.WherePositional(0), backboneType?.ToDisplayString() ?? "null"));
                return new ParseResult<ReasonerSpec>(null, diagnostics.ToEquatableArray());
            }
            // Every diagnostic about the backbone is reported where it is declared; here it only means
            // that no code was generated for it, so a reasoner around it would not compile either.
            if (backboneAttributes.Any(a => a.IsBroken))
                return new ParseResult<ReasonerSpec>(null, diagnostics.ToEquatableArray()); // the compiler reports it there
            var backboneDiagnostics = new List<DiagnosticInfo>();
            var backbone = CheckedBackbone((INamedTypeSymbol)backboneType!, backboneAttributes, backboneArgs, null, backboneDiagnostics, cancellation);
            bool backboneBroken = HasErrors(backboneDiagnostics);

            var method = root.Name switch
            {
                "LatentReasoner" => Method.CompressedLatent,
                "ChainOfThought" => Method.ChainOfThought,
                "ContinuousThought" => Method.ContinuousThought,
                _ => Method.DirectAnswer,
            };
            components.TryGetValue("CompressionMerger", out var merger);
            components.TryGetValue("LatentHead", out var head);
            components.TryGetValue("Objective", out var objective);
            components.TryGetValue("Curriculum", out var curriculum);
            components.TryGetValue("LatentProjector", out var projector);
            components.TryGetValue("TeacherAlignment", out var teacher);
            components.TryGetValue("Lora", out var lora);

            var spec = new ReasonerSpec(
                Namespace: NamespaceOf(type),
                ClassName: type.Name,
                Method: method,
                Backbone: backbone,
                Tokenizer: root.String("Tokenizer", "embedded"),
                MaxLatentSteps: root.Int("MaxLatentSteps", 64),
                MaxAnswerTokens: root.Int("MaxAnswerTokens", 16),
                Compression: method != Method.CompressedLatent ? null : new CompressionSpec(
                    root.Int("MinCompression", 1), root.Int("MaxCompression", 5), root.Double("AutoSpeedProbability", 0),
                    (MergeKind)(merger?.PositionalInt(0, 1) ?? 1)),
                LatentHead: head is null ? null : new LatentHeadSpec(
                    head.Int("Intermediate", 0) is var i && i == 0 ? backbone.Hidden : i,
                    (HeadKind)head.Int("Kind", 0), (LatentLossKind)head.Int("Loss", 0)),
                Objective: new ObjectiveSpec(
                    objective?.Double("CeWeight", 1) ?? 1, objective?.Double("LatentWeight", 1) ?? 1,
                    objective?.Double("EntropyWeight", 0) ?? 0, objective?.Bool("CompressedLabels", true) ?? true),
                Curriculum: curriculum is null ? null : new CurriculumSpec(
                    curriculum.Int("StepsPerStage", 1), curriculum.Int("EpochsPerStage", 1),
                    curriculum.Int("MaxStages", 3), curriculum.Bool("ResetOptimizer", false)),
                Thoughts: method != Method.ContinuousThought ? null : new ThoughtSpec(root.Int("ThoughtsPerStep", 2), root.Int("MaxThoughts", 6)),
                Projector: projector is null ? null : new ProjectorSpec(
                    projector.Int("Intermediate", 0) is var pi && pi == 0 ? backbone.Hidden : pi, projector.Bool("LayerNorm", true)),
                Teacher: teacher is null ? null : new TeacherSpec(
                    teacher.Double("Weight", 20), (AlignmentLossKind)teacher.Int("Loss", 0), teacher.Bool("Normalize", false)),
                Lora: lora is null ? null : new LoraSpec(lora.Int("Rank", 128), lora.Double("Alpha", 32), lora.Int("Targets", 127)),
                // Extension points: a member the user wrote in the partial class replaces the generated one.
                UserSftLoss: type.GetMembers("ComputeSftLoss").Any(m => !m.IsImplicitlyDeclared),
                UserGenerate: type.GetMembers("Generate").Any(m => !m.IsImplicitlyDeclared));

            int embeddedVocabulary = EmbeddedVocabularySize(context.SemanticModel.Compilation);
            ShapeChecker.CheckReasoner(spec, root, merger, head, objective, curriculum, projector, teacher, lora, embeddedVocabulary, diagnostics);
            bool emit = !HasErrors(diagnostics) && !backboneBroken;
            return new ParseResult<ReasonerSpec>(emit ? spec : null, diagnostics.ToEquatableArray());
        }

        /// <summary>The embedded tokenizer's size, read from the runtime's constant so there is one source of truth.</summary>
        private static int EmbeddedVocabularySize(Compilation compilation)
        {
            var type = compilation.GetTypeByMetadataName("CoLaR.Text.EmbeddedVocabulary");
            var field = type?.GetMembers("Size").OfType<IFieldSymbol>().FirstOrDefault();
            return field?.ConstantValue is int size ? size : 0;
        }

        // ---- Components with no reasoner ----

        /// <summary>A component attribute on a class with no reasoner root: it would silently do nothing.</summary>
        public static EquatableArray<DiagnosticInfo> ParseOrphan(GeneratorAttributeSyntaxContext context, string attribute, CancellationToken cancellation)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type || IsHalfTyped(context.TargetNode)) return EquatableArray<DiagnosticInfo>.Empty;
            var attributes = AttributeArgs.Read(type);
            if (attributes.Any(a => SpecNames.Roots.Contains(a.Name))) return EquatableArray<DiagnosticInfo>.Empty;
            var component = attributes.FirstOrDefault(a => a.Name == attribute);
            if (component is null || component.IsBroken) return EquatableArray<DiagnosticInfo>.Empty;
            return new[]
            {
                Diagnose(Diagnostics.ComponentNotApplicable, component.Location, component.Name, type.Name, RootList(SpecNames.AcceptedBy[component.Name])),
            }.ToEquatableArray();
        }

        // ---- Shared checks ----

        /// <summary>A class whose name is not typed yet ("public partial class" at the end of a file).</summary>
        private static bool IsHalfTyped(SyntaxNode node) =>
            node is TypeDeclarationSyntax declaration && (declaration.Identifier.IsMissing || declaration.Identifier.ValueText.Length == 0);

        /// <summary>An unresolved type, or one built from it (<c>Missing[]</c>, <c>List&lt;Missing&gt;</c>): the compiler reports it.</summary>
        private static bool HasErrors(ITypeSymbol type) => type switch
        {
            { TypeKind: TypeKind.Error } => true,
            IArrayTypeSymbol array => HasErrors(array.ElementType),
            IPointerTypeSymbol pointer => HasErrors(pointer.PointedAtType),
            INamedTypeSymbol named => named.TypeArguments.Any(HasErrors),
            _ => false,
        };

        /// <summary>Where a class diagnostic points: the class's identifier.</summary>
        private static LocationInfo? ClassLocation(SyntaxNode node) =>
            node is TypeDeclarationSyntax declaration ? LocationInfo.From(declaration.Identifier.GetLocation()) : LocationInfo.From(node);

        /// <summary>
        /// Can code be generated for this class: partial, top-level, non-generic, a class rather than a
        /// record, no base class of its own, and a name that the generated members do not use.
        /// </summary>
        private static void CheckClass(INamedTypeSymbol type, LocationInfo? at, string attribute, string expectedBase,
            string role, IReadOnlyDictionary<string, string> reservedNames, List<DiagnosticInfo> diagnostics, CancellationToken cancellation)
        {
            var declarations = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellation)).OfType<TypeDeclarationSyntax>().ToList();
            // A type from a referenced assembly has no declarations here: its code was generated there.
            bool isPartial = declarations.Count == 0 || declarations.Any(d => d.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword)));
            if (!isPartial) diagnostics.Add(Diagnose(Diagnostics.NotPartial, at, type.Name, attribute));
            if (type.ContainingType is not null)
                diagnostics.Add(Diagnose(Diagnostics.NestedOrGeneric, at, type.Name, "nested in '" + type.ContainingType.ToDisplayString() + "'"));
            if (type.IsGenericType) diagnostics.Add(Diagnose(Diagnostics.NestedOrGeneric, at, type.Name, "generic"));
            if (type.IsRecord) diagnostics.Add(Diagnose(Diagnostics.NestedOrGeneric, at, type.Name, "a record"));
            var baseType = type.BaseType;
            if (baseType is not null && baseType.SpecialType != SpecialType.System_Object && baseType.TypeKind != TypeKind.Error && !type.IsRecord)
            {
                var name = baseType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                if (name != expectedBase)
                    diagnostics.Add(Diagnose(Diagnostics.HasBaseClass, at, type.Name, baseType.ToDisplayString(), expectedBase.Replace("global::", "")));
            }
            if (reservedNames.TryGetValue(type.Name, out var what))
                diagnostics.Add(Diagnose(Diagnostics.ReservedName, at, type.Name, what, role));
        }

        internal static DiagnosticInfo Diagnose(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args) =>
            new(descriptor, location, args.Select(a => System.Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToEquatableArray());

        private static bool HasErrors(List<DiagnosticInfo> diagnostics) =>
            diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);

        private static string RootList(string[] roots) =>
            roots.Length == 1 ? "[" + roots[0] + "]" : string.Join(" or ", roots.Select(r => "[" + r + "]"));

        private static string NamespaceOf(INamedTypeSymbol type) =>
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "";
    }
}
