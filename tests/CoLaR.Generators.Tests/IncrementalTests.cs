using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace CoLaR.Generators.Tests;

/// <summary>
/// The generator caches: edits that do not change a spec's numbers leave its spec steps Cached or
/// Unchanged and its outputs Cached; a changed number makes the spec Modified. Pipeline models hold
/// plain values only.
/// </summary>
public class IncrementalTests
{
    const string Backbone = """
        using CoLaR.Specs;

        namespace Specs;

        [Llama(Vocab = 512, Hidden = 64, Layers = 2, Heads = 4, KvHeads = 2, Intermediate = 128)]
        public partial class Tiny
        {
            public int Helper() => 1;
        }
        """;

    const string Reasoner = """
        using CoLaR.Specs;

        namespace Specs;

        [LatentReasoner(typeof(Tiny), MaxCompression = 5)]
        [CompressionMerger(Merge.SqrtMean)]
        [LatentHead(Intermediate = 96)]
        public partial class Latent
        {
            public int Helper() => 1;
        }
        """;

    static readonly string[] SpecSteps = [TrackingNames.BackboneSpecs, TrackingNames.ReasonerSpecs];

    /// <summary>Runs on the two specs, then again after <paramref name="edit"/>; returns the second run.</summary>
    static GeneratorRun RunTwice(Func<CSharpCompilation, CSharpCompilation> edit)
    {
        var compilation = GeneratorHarness.Compile(new SourceFile("Backbone.cs", Backbone), new SourceFile("Latent.cs", Reasoner));
        var first = GeneratorHarness.Run(compilation);
        Assert.Empty(first.GeneratorDiagnostics);
        Assert.Empty(first.CompilationErrors);
        Assert.Equal(2, first.Sources.Count);
        // The first run sees everything as new.
        foreach (var step in SpecSteps)
            Assert.All(Outputs(first, step), r => Assert.Equal(IncrementalStepRunReason.New, r));
        var second = GeneratorHarness.Run(edit(compilation), first.Driver);
        Assert.Empty(second.Crashes);
        return second;
    }

    static IReadOnlyList<IncrementalStepRunReason> Outputs(GeneratorRun run, string step) =>
        run.Single.TrackedSteps.TryGetValue(step, out var steps)
            ? steps.SelectMany(s => s.Outputs).Select(o => o.Reason).ToList()
            : [];

    static void AssertSpecsCached(GeneratorRun run)
    {
        foreach (var step in SpecSteps)
        {
            var reasons = Outputs(run, step);
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
        var outputs = run.Single.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    static CSharpCompilation Replace(CSharpCompilation c, string path, Func<string, string> change)
    {
        var tree = c.SyntaxTrees.Single(t => t.FilePath == path);
        var text = tree.GetText().ToString();
        var changed = change(text);
        Assert.NotEqual(text, changed);
        return c.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(changed)));
    }

    [Fact]
    public void Same_compilation_again_is_cached() =>
        AssertSpecsCached(RunTwice(c => (CSharpCompilation)c.Clone()));

    [Fact]
    public void Adding_an_unrelated_file_is_cached() =>
        AssertSpecsCached(RunTwice(c => c.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "namespace Other; public static class Unrelated { public static int X => 42; }", GeneratorHarness.ParseOptions, "Unrelated.cs"))));

    [Fact]
    public void Editing_a_method_body_in_a_spec_file_is_cached() =>
        AssertSpecsCached(RunTwice(c => Replace(c, "Backbone.cs", t => t.Replace("=> 1;", "=> 2 + 3;"))));

    [Fact]
    public void Editing_a_method_body_in_a_reasoner_file_is_cached() =>
        AssertSpecsCached(RunTwice(c => Replace(c, "Latent.cs", t => t.Replace("=> 1;", "=> 7;"))));

    [Fact]
    public void Adding_whitespace_and_comments_in_spec_files_is_cached() =>
        AssertSpecsCached(RunTwice(c =>
            Replace(Replace(c, "Backbone.cs", t => "// a comment\n\n" + t.Replace("Hidden = 64,", "Hidden   =   64 ,")),
                "Latent.cs", t => t.Replace("[CompressionMerger", "\n\n    [CompressionMerger"))));

    [Fact]
    public void Changing_a_backbone_number_modifies_the_backbone_and_its_reasoner()
    {
        var run = RunTwice(c => Replace(c, "Backbone.cs", t => t.Replace("Intermediate = 128", "Intermediate = 160")));
        Assert.Contains(IncrementalStepRunReason.Modified, Outputs(run, TrackingNames.BackboneSpecs));
        // The reasoner inlines its backbone's spec, so it is regenerated too.
        Assert.Contains(IncrementalStepRunReason.Modified, Outputs(run, TrackingNames.ReasonerSpecs));
        Assert.Contains("public const int Intermediate = 160;", run.Source("Specs.Tiny.g.cs"));
        Assert.Empty(run.CompilationErrors);
    }

    [Fact]
    public void Changing_a_reasoner_number_modifies_only_the_reasoner()
    {
        var run = RunTwice(c => Replace(c, "Latent.cs", t => t.Replace("MaxCompression = 5", "MaxCompression = 3")));
        Assert.Contains(IncrementalStepRunReason.Modified, Outputs(run, TrackingNames.ReasonerSpecs));
        Assert.All(Outputs(run, TrackingNames.BackboneSpecs), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        Assert.Contains("Max: 3", run.Source("Specs.Latent.g.cs"));
    }

    [Fact]
    public void Adding_an_extension_point_modifies_the_reasoner()
    {
        var run = RunTwice(c => Replace(c, "Latent.cs", t => t.Replace("public int Helper() => 1;",
            "public override CoLaR.Training.SftLoss ComputeSftLoss(CoLaR.Training.SftBatch b, CoLaR.Training.SftContext c) => CoLaR.Training.Objectives.CompressedLatent(this, b, c);")));
        Assert.Contains(IncrementalStepRunReason.Modified, Outputs(run, TrackingNames.ReasonerSpecs));
        Assert.DoesNotContain("ComputeSftLoss", run.Source("Specs.Latent.g.cs"));
        Assert.Empty(run.CompilationErrors);
    }

    [Fact]
    public void Moving_a_diagnostic_reports_it_at_the_new_place_without_regenerating()
    {
        // An invalid spec: the diagnostics output re-fires with the new location; nothing is emitted.
        const string invalid = "using CoLaR.Specs;\n[Llama(Vocab = 96, Hidden = 190, Layers = 2, Heads = 6, Intermediate = 128)]\npublic partial class Bad;\n";
        var compilation = GeneratorHarness.Compile(new SourceFile("Bad.cs", invalid));
        var first = GeneratorHarness.Run(compilation);
        Assert.Equal((2, 20), Position(first.ColarDiagnostics.Single()));
        var tree = compilation.SyntaxTrees.Single();
        var moved = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From("\n\n" + invalid)));
        var second = GeneratorHarness.Run(moved, first.Driver);
        Assert.Equal((4, 20), Position(second.ColarDiagnostics.Single()));
        Assert.Empty(second.Sources);
    }

    static (int, int) Position(Diagnostic d) =>
        (d.Location.GetLineSpan().StartLinePosition.Line + 1, d.Location.GetLineSpan().StartLinePosition.Character + 1);

    // ---------------------------------------------------------------- pipeline models hold values only

    static readonly Type[] Banned =
        [typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(Compilation), typeof(SemanticModel), typeof(AttributeData), typeof(TypedConstant)];

    /// <summary>Every type in CoLaR.Generators.Model, plus ParseResult&lt;&gt; over each spec.</summary>
    static IEnumerable<Type> PipelineModels()
    {
        var assembly = typeof(CoLaRGenerator).Assembly;
        var models = assembly.GetTypes().Where(t => t.Namespace == "CoLaR.Generators.Model" && !t.IsNested && !t.Name.StartsWith('<')).ToList();
        var parseResult = assembly.GetTypes().Single(t => t.Name == "ParseResult`1");
        return models.Concat([parseResult.MakeGenericType(typeof(Model.BackboneSpec)), parseResult.MakeGenericType(typeof(Model.ReasonerSpec))]);
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_syntax_locations_or_compilations()
    {
        var problems = new List<string>();
        var seen = new HashSet<Type>();
        foreach (var type in PipelineModels()) Walk(type, type.Name, seen, problems);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Contains(typeof(Model.BackboneSpec), seen);
        Assert.Contains(typeof(Model.DiagnosticInfo), seen);
    }

    [Fact]
    public void Pipeline_models_compare_by_value()
    {
        foreach (var type in PipelineModels().Where(t => t.IsClass && !(t.IsAbstract && t.IsSealed)))
        {
            var equals = type.GetMethod("Equals", [type]);
            Assert.True(equals is not null && equals.DeclaringType == type, $"{type.Name} does not implement value equality");
        }
        // The equality that caching depends on, checked on real values.
        var a = GeneratorHarness.RunValid(Scenarios.Sources("Qwen3_QkNormHeadDim"));
        var b = GeneratorHarness.RunValid(Scenarios.Sources("Qwen3_QkNormHeadDim"));
        var specA = a.Single.TrackedSteps[TrackingNames.BackboneSpecs].Single().Outputs.Single().Value;
        var specB = b.Single.TrackedSteps[TrackingNames.BackboneSpecs].Single().Outputs.Single().Value;
        Assert.NotSame(specA, specB);
        Assert.Equal(specA, specB);
    }

    static void Walk(Type type, string path, HashSet<Type> seen, List<string> problems)
    {
        if (Banned.Any(b => b.IsAssignableFrom(type))) { problems.Add($"{path}: {type.FullName}"); return; }
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || !seen.Add(type)) return;
        if (type.IsArray) { problems.Add($"{path}: array {type.Name} (compares by reference; use EquatableArray)"); return; }
        if (type.IsGenericType)
            foreach (var argument in type.GetGenericArguments()) Walk(argument, $"{path}<{argument.Name}>", seen, problems);
        // Roslyn value types (TextSpan, LinePositionSpan) and DiagnosticDescriptor are plain data; do not walk Roslyn's internals.
        if (type.Namespace?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true) return;
        if (type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true) return;
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            Walk(field.FieldType, $"{path}.{field.Name}", seen, problems);
    }

    [Fact]
    public void The_walk_would_catch_a_symbol()
    {
        var problems = new List<string>();
        Walk(typeof(HoldsASymbol), "HoldsASymbol", [], problems);
        Assert.Single(problems);
    }

    sealed record HoldsASymbol(string Name, Helpers.EquatableArray<int> Sizes, ITypeSymbol Type);
}
