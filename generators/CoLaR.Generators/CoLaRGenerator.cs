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
                        static (node, _) => node is ClassDeclarationSyntax,
                        (ctx, ct) => Guard(ctx, () => Parser.ParseBackbone(ctx, name, ct)))
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
                        static (node, _) => node is ClassDeclarationSyntax,
                        (ctx, ct) => Guard(ctx, () => Parser.ParseReasoner(ctx, name, ct)))
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
                        static (node, _) => node is ClassDeclarationSyntax,
                        (ctx, ct) => GuardDiagnostics(ctx, () => Parser.ParseOrphan(ctx, name, ct)))
                    .WithTrackingName(TrackingNames.Orphans);
                ReportDiagnostics(context, orphans);
            }
        }

        private static void ReportDiagnostics(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics) =>
            context.RegisterSourceOutput(diagnostics, static (spc, list) =>
            {
                foreach (var d in list) spc.ReportDiagnostic(d.ToDiagnostic());
            });

        private static void Emit(SourceProductionContext spc, string ns, string className, Func<string> emit)
        {
            var hint = (ns.Length == 0 ? "" : ns + ".") + className + ".g.cs";
            try
            {
                spc.AddSource(hint, emit());
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                spc.ReportDiagnostic(Diagnostic.Create(Diagnostics.InternalError, Location.None, className, e.GetType().Name + ": " + e.Message));
            }
        }

        /// <summary>Turns a parser crash into a COLAR000 warning at the class, never an AD0001/CS8785.</summary>
        private static ParseResult<T>? Guard<T>(GeneratorAttributeSyntaxContext ctx, Func<ParseResult<T>?> parse) where T : class
        {
            try
            {
                return parse();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new ParseResult<T>(null, ImmutableArray.Create(Crash(ctx, e)).ToEquatableArray());
            }
        }

        private static EquatableArray<DiagnosticInfo> GuardDiagnostics(GeneratorAttributeSyntaxContext ctx, Func<EquatableArray<DiagnosticInfo>> parse)
        {
            try
            {
                return parse();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return ImmutableArray.Create(Crash(ctx, e)).ToEquatableArray();
            }
        }

        private static DiagnosticInfo Crash(GeneratorAttributeSyntaxContext ctx, Exception e) =>
            Parser.Diagnose(Diagnostics.InternalError, LocationInfo.From(ctx.TargetNode), ctx.TargetSymbol.Name, e.GetType().Name + ": " + e.Message);
    }
}
