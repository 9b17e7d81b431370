using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CoLaR.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CoLaR.Generators
{
    /// <summary>
    /// One applied CoLaR attribute, read defensively: a half-typed or erroneous argument reads as
    /// "not given" (the compiler reports it), never as an exception. Remembers where each argument was
    /// written so a diagnostic can point at the number at fault. A parsing helper, not a pipeline model:
    /// it holds <see cref="TypedConstant"/>s (symbols), so it never leaves the transform.
    /// </summary>
    internal sealed class AttributeArgs
    {
        private readonly Dictionary<string, TypedConstant> _named = new(StringComparer.Ordinal);
        private readonly Dictionary<string, LocationInfo?> _namedLocations = new(StringComparer.Ordinal);
        private readonly List<TypedConstant> _positional = new();
        private readonly List<LocationInfo?> _positionalLocations = new();

        /// <summary>The attribute's name without namespace and "Attribute" suffix: "Llama", "LatentHead".</summary>
        public string Name { get; }
        public LocationInfo? Location { get; }

        /// <summary>
        /// The compiler reports an error in this attribute (half-typed argument, wrong type, unknown
        /// property, no matching constructor). The generator then stays silent about the class: its
        /// numbers are not known yet, and the compiler's error is the one to fix.
        /// </summary>
        public bool IsBroken { get; }

        public AttributeArgs(AttributeData data, string name)
        {
            Name = name;
            var syntax = data.ApplicationSyntaxReference?.GetSyntax() as AttributeSyntax;
            Location = LocationInfo.From(syntax);
            foreach (var arg in data.ConstructorArguments) _positional.Add(arg);
            foreach (var pair in data.NamedArguments) _named[pair.Key] = pair.Value;

            int namedWritten = 0, positionalWritten = 0;
            if (syntax?.ArgumentList is { } list)
            {
                foreach (var arg in list.Arguments)
                {
                    if (arg.NameEquals is { } nameEquals) { _namedLocations[nameEquals.Name.Identifier.ValueText] = LocationInfo.From(arg); namedWritten++; }
                    else { if (arg.NameColon is null) _positionalLocations.Add(LocationInfo.From(arg)); positionalWritten++; }
                }
            }
            IsBroken = syntax?.ContainsDiagnostics == true
                || data.AttributeConstructor is null
                || _positional.Any(c => c.Kind == TypedConstantKind.Error)
                || _named.Values.Any(c => c.Kind == TypedConstantKind.Error)
                || _named.Count < namedWritten                 // an argument the compiler dropped (unknown property)
                || _positional.Count < positionalWritten;
        }

        public bool Has(string property) => _named.TryGetValue(property, out var c) && c.Kind != TypedConstantKind.Error && c.Value is not null;

        /// <summary>Where <paramref name="property"/> was written, else the attribute itself.</summary>
        public LocationInfo? Where(string property) =>
            _namedLocations.TryGetValue(property, out var at) && at is not null ? at : Location;

        public LocationInfo? WherePositional(int index) =>
            index < _positionalLocations.Count && _positionalLocations[index] is not null ? _positionalLocations[index] : Location;

        public int Int(string property, int fallback) => Has(property) ? ToInt(_named[property].Value, fallback) : fallback;

        public double Double(string property, double fallback) =>
            Has(property) ? ToDouble(_named[property].Value, fallback) : fallback;

        public bool Bool(string property, bool fallback) =>
            Has(property) && _named[property].Value is bool b ? b : fallback;

        public string String(string property, string fallback) =>
            Has(property) && _named[property].Value is string s ? s : fallback;

        public int PositionalInt(int index, int fallback) =>
            index < _positional.Count && _positional[index].Kind != TypedConstantKind.Error ? ToInt(_positional[index].Value, fallback) : fallback;

        /// <summary>
        /// A <c>typeof(X)</c> constructor argument: the type (any kind: <c>typeof(int[])</c> is an array type),
        /// or null when the argument is absent, erroneous (the compiler reports it), or <c>null</c>.
        /// </summary>
        public ITypeSymbol? PositionalType(int index) =>
            index < _positional.Count && _positional[index].Kind == TypedConstantKind.Type ? _positional[index].Value as ITypeSymbol : null;

        /// <summary>True when the constructor argument at <paramref name="index"/> was given and the compiler accepted it.</summary>
        public bool HasPositional(int index) => index < _positional.Count && _positional[index].Kind != TypedConstantKind.Error;

        private static int ToInt(object? value, int fallback)
        {
            try { return value is null ? fallback : Convert.ToInt32(value, CultureInfo.InvariantCulture); }
            catch (Exception e) when (e is OverflowException || e is InvalidCastException || e is FormatException) { return fallback; }
        }

        private static double ToDouble(object? value, double fallback)
        {
            try { return value is null ? fallback : Convert.ToDouble(value, CultureInfo.InvariantCulture); }
            catch (Exception e) when (e is OverflowException || e is InvalidCastException || e is FormatException) { return fallback; }
        }

        /// <summary>Every CoLaR spec attribute on a class, in source order, with short names.</summary>
        public static List<AttributeArgs> Read(ISymbol symbol)
        {
            var result = new List<AttributeArgs>();
            foreach (var data in symbol.GetAttributes())
            {
                var cls = data.AttributeClass;
                if (cls is null || cls.TypeKind == TypeKind.Error) continue;
                if (cls.ContainingNamespace?.ToDisplayString() != SpecNames.Namespace) continue;
                var name = cls.Name.EndsWith("Attribute", StringComparison.Ordinal) ? cls.Name.Substring(0, cls.Name.Length - "Attribute".Length) : cls.Name;
                if (!SpecNames.All.Contains(name)) continue;
                result.Add(new AttributeArgs(data, name));
            }
            return result;
        }
    }

    /// <summary>The attribute names the generator understands, by role.</summary>
    internal static class SpecNames
    {
        public const string Namespace = "CoLaR.Specs";
        public static readonly string[] Backbones = { "Llama", "Qwen2", "Qwen3", "Gpt2" };
        public static readonly string[] Roots = { "LatentReasoner", "ChainOfThought", "DirectAnswer", "ContinuousThought" };
        public static readonly string[] Components = { "CompressionMerger", "LatentHead", "Objective", "Curriculum", "LatentProjector", "TeacherAlignment", "Lora" };
        public static readonly HashSet<string> All = new(Backbones.Concat(Roots).Concat(Components), StringComparer.Ordinal);

        public static string MetadataName(string shortName) => Namespace + "." + shortName + "Attribute";

        /// <summary>Which roots accept each component.</summary>
        public static readonly Dictionary<string, string[]> AcceptedBy = new(StringComparer.Ordinal)
        {
            ["CompressionMerger"] = new[] { "LatentReasoner" },
            ["LatentHead"] = new[] { "LatentReasoner" },
            ["Objective"] = Roots,
            ["Curriculum"] = new[] { "ChainOfThought", "ContinuousThought" },
            ["LatentProjector"] = new[] { "ContinuousThought" },
            ["TeacherAlignment"] = new[] { "ContinuousThought" },
            ["Lora"] = Roots,
        };
    }
}
