using CoLaR.Generators.Model;
using Microsoft.CodeAnalysis;

namespace CoLaR.Generators.Tests;

/// <summary>
/// COLAR000: no valid or invalid input is known to crash the generator (the fuzz tests look for one), so
/// the guards that would turn a crash into COLAR000 instead of AD0001/CS8785 are tested directly.
/// </summary>
public class GuardTests
{
    const string Message = "The CoLaR generator could not process 'M': InvalidOperationException: boom";

    static void AssertCrash(DiagnosticInfo info)
    {
        Assert.Equal("COLAR000", info.Descriptor.Id);
        var d = info.ToDiagnostic();
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal(Message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_parser_exception_becomes_COLAR000_and_no_spec()
    {
        var result = CoLaRGenerator.Guard<BackboneSpec>(() => throw new InvalidOperationException("boom"), e => CoLaRGenerator.CrashInfo(null, "M", e));
        Assert.NotNull(result);
        Assert.Null(result.Spec);
        AssertCrash(Assert.Single(result.Diagnostics));
    }

    [Fact]
    public void A_component_check_exception_becomes_COLAR000()
    {
        var result = CoLaRGenerator.GuardDiagnostics(() => throw new InvalidOperationException("boom"), e => CoLaRGenerator.CrashInfo(null, "M", e));
        AssertCrash(Assert.Single(result));
    }

    [Fact]
    public void An_emitter_exception_becomes_COLAR000_and_no_file()
    {
        var (hint, source, error) = CoLaRGenerator.TryEmit("Ns", "M", () => throw new InvalidOperationException("boom"));
        Assert.Equal("Ns.M.g.cs", hint);
        Assert.Null(source);
        AssertCrash(error!);
    }

    [Fact]
    public void Without_an_exception_the_guards_pass_results_through()
    {
        var empty = new ParseResult<BackboneSpec>(null, Helpers.EquatableArray<DiagnosticInfo>.Empty);
        Assert.Same(empty, CoLaRGenerator.Guard(() => empty, _ => throw new Xunit.Sdk.XunitException("not called")));
        Assert.Equal(("M.g.cs", "// text", (DiagnosticInfo?)null), CoLaRGenerator.TryEmit("", "M", () => "// text"));
    }

    [Fact]
    public void Cancellation_is_not_swallowed()
    {
        Assert.Throws<OperationCanceledException>(() =>
            CoLaRGenerator.Guard<BackboneSpec>(() => throw new OperationCanceledException(), e => CoLaRGenerator.CrashInfo(null, "M", e)));
        Assert.Throws<OperationCanceledException>(() =>
            CoLaRGenerator.TryEmit("", "M", () => throw new OperationCanceledException()));
    }
}
