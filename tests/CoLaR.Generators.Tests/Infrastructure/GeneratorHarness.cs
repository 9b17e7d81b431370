using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CoLaR.Generators.Tests.Infrastructure;

/// <summary>One C# file of a test compilation.</summary>
public sealed record SourceFile(string Path, string Text)
{
    public static implicit operator SourceFile(string text) => new("Spec.cs", text);
}

/// <summary>
/// What one run of <see cref="CoLaRGenerator"/> produced: its sources and diagnostics, the compilation
/// with the sources added, and the driver (to run again for incremental tests).
/// </summary>
public sealed record GeneratorRun(
    GeneratorDriver Driver,
    GeneratorDriverRunResult Result,
    Compilation Input,
    Compilation Output,
    ImmutableArray<Diagnostic> GeneratorDiagnostics)
{
    public GeneratorRunResult Single => Result.Results.Single();

    /// <summary>The generated files, by hint name, in hint-name order.</summary>
    public IReadOnlyList<GeneratedSourceResult> Sources =>
        Single.GeneratedSources.OrderBy(s => s.HintName, StringComparer.Ordinal).ToList();

    public string Source(string hintName) => Sources.Single(s => s.HintName == hintName).SourceText.ToString();

    /// <summary>Diagnostics the generator reported itself (COLAR…), in source order.</summary>
    public IReadOnlyList<Diagnostic> ColarDiagnostics =>
        GeneratorDiagnostics.Where(d => d.Id.StartsWith("COLAR", StringComparison.Ordinal))
            .OrderBy(d => d.Location.GetLineSpan().Path, StringComparer.Ordinal)
            .ThenBy(d => d.Location.GetLineSpan().StartLinePosition)
            .ThenBy(d => d.Id, StringComparer.Ordinal).ToList();

    /// <summary>Errors of the compilation after generation (user code and generated code alike).</summary>
    public IReadOnlyList<Diagnostic> CompilationErrors =>
        Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>Errors inside generated files only: the generator emitted code that does not compile.</summary>
    public IReadOnlyList<Diagnostic> GeneratedCodeErrors =>
        CompilationErrors.Where(d => d.Location.SourceTree is { } t && !Input.SyntaxTrees.Contains(t)).ToList();

    /// <summary>Errors in the user's own files before generation (typos, half-typed attributes).</summary>
    public IReadOnlyList<Diagnostic> InputErrors =>
        Input.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>Signs the generator itself failed: an exception, COLAR000, CS8785 (generator threw), AD0001 (analyzer threw).</summary>
    public IReadOnlyList<string> Crashes =>
        Single.Exception is { } e ? [e.ToString()] :
        GeneratorDiagnostics.Concat(Output.GetDiagnostics())
            .Where(d => d.Id is "COLAR000" or "CS8785" or "AD0001" or "CS8784")
            .Select(d => d.ToString()).ToList();

    /// <summary>Everything that went wrong, for assertion messages.</summary>
    public string Describe() =>
        string.Join("\n", GeneratorDiagnostics.Concat(CompilationErrors).Select(d => d.ToString()).Distinct());
}

/// <summary>
/// Compiles C# in memory against .NET 10 reference assemblies, CoLaR.Runtime and TorchSharp, and runs
/// the generator through a <see cref="CSharpGeneratorDriver"/> that tracks incremental steps.
/// </summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Parse);

    /// <summary>.NET 10 + the attributes/runtime the generated code calls + TorchSharp; shared by every test.</summary>
    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(CoLaR.Specs.LlamaAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location),
    ];

    public static readonly CSharpCompilationOptions CompilationOptions =
        new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
            concurrentBuild: false, deterministic: true);

    /// <summary>The global usings an SDK project with ImplicitUsings gets (the shipped models are built that way).</summary>
    public const string ImplicitUsings = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        """;

    public static CSharpCompilation Compile(params SourceFile[] sources) =>
        CSharpCompilation.Create("Specs",
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, s.Path)),
            References, CompilationOptions);

    public static GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create(
            [new CoLaRGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator on <paramref name="compilation"/>, continuing <paramref name="driver"/> when given (incremental runs).</summary>
    public static GeneratorRun Run(Compilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? NewDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new GeneratorRun(driver, driver.GetRunResult(), compilation, output, diagnostics);
    }

    public static GeneratorRun Run(params SourceFile[] sources) => Run(Compile(sources));

    /// <summary>Runs a spec that must be valid: no diagnostics at all, and the generated code compiles.</summary>
    public static GeneratorRun RunValid(params SourceFile[] sources)
    {
        var run = Run(sources);
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.True(run.GeneratorDiagnostics.IsEmpty, "generator diagnostics:\n" + run.Describe());
        Assert.True(run.CompilationErrors.Count == 0, "compilation errors after generation:\n" + run.Describe());
        Assert.NotEmpty(run.Sources);
        return run;
    }
}
