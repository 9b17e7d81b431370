using System;
using System.Collections.Immutable;
using CoLaR.Generators.Helpers;
using CoLaR.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CoLaR.Generators
{
    /// <summary>Names of the pipeline steps, for incremental-caching tests.</summary>
    internal static class TrackingNames
    {
        public const string BackboneResults = nameof(BackboneResults);
        public const string BackboneSpecs = nameof(BackboneSpecs);
        public const string ReasonerResults = nameof(ReasonerResults);
        public const string ReasonerSpecs = nameof(ReasonerSpecs);
        public const string Orphans = nameof(Orphans);
    }

    /// <summary>
    /// The pipelines: for each spec attribute, ForAttributeWithMetadataName → parse (symbols → equatable
    /// spec + diagnostics) → two outputs: the diagnostics, and the source (emitted only when the spec
    /// changed by value, so edits elsewhere leave generated files cached).
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class CoLaRGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            foreach (var name in SpecNames.Backbones)
            {
                var results = context.SyntaxProvider
                    .ForAttributeWithMetadataName(SpecNames.MetadataName(name),
                        static (node, _) => IsClass(node),
                        (ctx, ct) => Guard(() => Parser.ParseBackbone(ctx, name, ct), e => Crash(ctx, e)))
                    .Where(static r => r is not null)
                    .Select(static (r, _) => r!)
                    .WithTrackingName(TrackingNames.BackboneResults);
                ReportDiagnostics(context, results.Select(static (r, _) => r.Diagnostics));
                var specs = results.Select(static (r, _) => r.Spec).Where(static s => s is not null).Select(static (s, _) => s!)
                    .WithTrackingName(TrackingNames.BackboneSpecs);
                context.RegisterSourceOutput(specs, static (spc, spec) =>
                    Emit(spc, spec.Namespace, spec.ClassName, () => Emitter.Backbone(spec)));
            }

            foreach (var name in SpecNames.Roots)
            {
                var results = context.SyntaxProvider
                    .ForAttributeWithMetadataName(SpecNames.MetadataName(name),
                        static (node, _) => IsClass(node),
                        (ctx, ct) => Guard(() => Parser.ParseReasoner(ctx, name, ct), e => Crash(ctx, e)))
                    .Where(static r => r is not null)
                    .Select(static (r, _) => r!)
                    .WithTrackingName(TrackingNames.ReasonerResults);
                ReportDiagnostics(context, results.Select(static (r, _) => r.Diagnostics));
                var specs = results.Select(static (r, _) => r.Spec).Where(static s => s is not null).Select(static (s, _) => s!)
                    .WithTrackingName(TrackingNames.ReasonerSpecs);
                context.RegisterSourceOutput(specs, static (spc, spec) =>
                    Emit(spc, spec.Namespace, spec.ClassName, () => Emitter.Reasoner(spec)));
            }

            foreach (var name in SpecNames.Components)
            {
                var orphans = context.SyntaxProvider
                    .ForAttributeWithMetadataName(SpecNames.MetadataName(name),
                        static (node, _) => IsClass(node),
                        (ctx, ct) => GuardDiagnostics(() => Parser.ParseOrphan(ctx, name, ct), e => Crash(ctx, e)))
                    .WithTrackingName(TrackingNames.Orphans);
                ReportDiagnostics(context, orphans);
            }
        }

        private static void ReportDiagnostics(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics) =>
            context.RegisterSourceOutput(diagnostics, static (spc, list) =>
            {
                foreach (var d in list) spc.ReportDiagnostic(d.ToDiagnostic());
            });

        /// <summary>Classes and records (a record is reported, COLAR016); structs and interfaces cannot carry the attributes.</summary>
        private static bool IsClass(SyntaxNode node) => node is ClassDeclarationSyntax or RecordDeclarationSyntax;

        private static void Emit(SourceProductionContext spc, string ns, string className, Func<string> emit)
        {
            var (hint, source, error) = TryEmit(ns, className, emit);
            if (source is not null) spc.AddSource(hint, source);
            if (error is not null) spc.ReportDiagnostic(error.ToDiagnostic());
        }

        /// <summary>Runs an emitter: the hint name and source, or a COLAR000 warning instead of an exception.</summary>
        internal static (string Hint, string? Source, DiagnosticInfo? Error) TryEmit(string ns, string className, Func<string> emit)
        {
            var hint = (ns.Length == 0 ? "" : ns + ".") + className + ".g.cs";
            try
            {
                return (hint, emit(), null);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return (hint, null, CrashInfo(null, className, e));
            }
        }

        /// <summary>Turns a parser crash into a COLAR000 warning at the class, never an AD0001/CS8785.</summary>
        internal static ParseResult<T>? Guard<T>(Func<ParseResult<T>?> parse, Func<Exception, DiagnosticInfo> crash) where T : class
        {
            try
            {
                return parse();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new ParseResult<T>(null, ImmutableArray.Create(crash(e)).ToEquatableArray());
            }
        }

        internal static EquatableArray<DiagnosticInfo> GuardDiagnostics(Func<EquatableArray<DiagnosticInfo>> parse, Func<Exception, DiagnosticInfo> crash)
        {
            try
            {
                return parse();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return ImmutableArray.Create(crash(e)).ToEquatableArray();
            }
        }

        private static DiagnosticInfo Crash(GeneratorAttributeSyntaxContext ctx, Exception e) =>
            CrashInfo(LocationInfo.From(ctx.TargetNode), ctx.TargetSymbol.Name, e);

        /// <summary>COLAR000: "The CoLaR generator could not process '{class}': {exception type}: {message}".</summary>
        internal static DiagnosticInfo CrashInfo(LocationInfo? at, string className, Exception e) =>
            Parser.Diagnose(Diagnostics.InternalError, at, className, e.GetType().Name + ": " + e.Message);
    }
}
