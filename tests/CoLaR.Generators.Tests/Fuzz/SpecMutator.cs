using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CoLaR.Generators.Tests.Fuzz;

/// <summary>Seeded random edits of valid spec sources: the kinds of mistakes and half-edits a user makes.</summary>
public sealed class SpecMutator(Random random)
{
    public delegate string? Mutation(SpecMutator m, string text);

    /// <summary>Each mutation, by name; it returns null when it does not apply to the text.</summary>
    public static readonly (string Name, Mutation Apply, int Weight)[] Mutations =
    [
        ("number", (m, t) => m.ChangeNumber(t), 8),
        ("enum", (m, t) => m.ChangeEnum(t), 2),
        ("add-argument", (m, t) => m.AddArgument(t), 3),
        ("delete-argument", (m, t) => m.DeleteArgument(t), 2),
        ("duplicate-argument", (m, t) => m.DuplicateArgument(t), 1),
        ("delete-attribute", (m, t) => m.DeleteAttribute(t), 2),
        ("duplicate-attribute", (m, t) => m.DuplicateAttribute(t), 1),
        ("swap-attribute", (m, t) => m.SwapAttributeName(t), 2),
        ("truncate", (m, t) => m.Truncate(t), 2),
        ("remove-partial", (m, t) => m.RemovePartial(t), 1),
        ("nest", (m, t) => m.Nest(t), 1),
        ("generic", (m, t) => m.MakeGeneric(t), 1),
        ("rename", (m, t) => m.Rename(t), 1),
    ];

    public (string Name, Mutation Apply) Pick()
    {
        int total = Mutations.Sum(x => x.Weight), r = random.Next(total);
        foreach (var (name, apply, weight) in Mutations)
        {
            if (r < weight) return (name, apply);
            r -= weight;
        }
        throw new InvalidOperationException();
    }

    static CompilationUnitSyntax Parse(string text) =>
        (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions).GetRoot();

    T Choose<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    static List<AttributeSyntax> Attributes(SyntaxNode root) =>
        root.DescendantNodes().OfType<AttributeSyntax>().Where(a => SpecOracle.Properties.ContainsKey(a.Name.ToString())).ToList();

    static string Replace(string text, TextSpanLike span, string with) => text[..span.Start] + with + text[span.End..];

    readonly record struct TextSpanLike(int Start, int End)
    {
        public static implicit operator TextSpanLike(Microsoft.CodeAnalysis.Text.TextSpan s) => new(s.Start, s.End);
    }

    string IntValue() => random.Next(12) switch
    {
        0 => "0",
        1 => "-" + random.Next(1, 100).ToString(CultureInfo.InvariantCulture),
        2 => "1",
        3 => random.Next(1, 9).ToString(CultureInfo.InvariantCulture),
        4 => (2 * random.Next(1, 40)).ToString(CultureInfo.InvariantCulture),
        5 => random.Next(1, 300).ToString(CultureInfo.InvariantCulture),
        6 => "int.MaxValue",
        7 => "1 << 30",
        8 => random.Next(1_000_000, 2_000_000_000).ToString(CultureInfo.InvariantCulture),
        9 => "int.MinValue",
        10 => "2147483648", // does not fit an int: a compiler error
        _ => (16 * random.Next(1, 12)).ToString(CultureInfo.InvariantCulture),
    };

    string DoubleValue() => random.Next(12) switch
    {
        0 => "0",
        1 => "-1",
        2 => "0.5",
        3 => "1",
        4 => "4",
        5 => "8",
        6 => "1e-6",
        7 => "1e30",
        8 => "double.NaN",
        9 => "double.PositiveInfinity",
        10 => (random.NextDouble() * 2).ToString("0.###", CultureInfo.InvariantCulture),
        _ => "500000",
    };

    string? ChangeNumber(string text)
    {
        var root = Parse(text);
        var candidates = Attributes(root).SelectMany(a => (a.ArgumentList?.Arguments ?? default)
                .Where(arg => arg.NameEquals is { } ne && SpecOracle.Properties[a.Name.ToString()].TryGetValue(ne.Name.Identifier.ValueText, out var k)
                              && k.Kind is SpecOracle.Kind.Int or SpecOracle.Kind.Double)
                .Select(arg => (arg, SpecOracle.Properties[a.Name.ToString()][arg.NameEquals!.Name.Identifier.ValueText].Kind)))
            .ToList();
        if (candidates.Count == 0) return null;
        var (target, kind) = Choose(candidates);
        return Replace(text, target.Expression.Span, kind == SpecOracle.Kind.Int ? IntValue() : DoubleValue());
    }

    string? ChangeEnum(string text)
    {
        var root = Parse(text);
        var candidates = root.DescendantNodes().OfType<MemberAccessExpressionSyntax>()
            .Where(m => m.Expression.ToString() is "Merge" or "LatentHeadKind" or "LatentLoss" or "AlignmentLoss" or "LoraTargets")
            .ToList();
        if (candidates.Count == 0) return null;
        var target = Choose(candidates);
        var value = Choose(new[] { "-1", "0", "1", "2", "3", "7", "64", "128" });
        return Replace(text, target.Span, $"({target.Expression})({value})");
    }

    string? AddArgument(string text)
    {
        var attributes = Attributes(Parse(text));
        if (attributes.Count == 0) return null;
        var target = Choose(attributes);
        var props = SpecOracle.Properties[target.Name.ToString()].Where(p => p.Value.Kind is SpecOracle.Kind.Int or SpecOracle.Kind.Double or SpecOracle.Kind.Bool).ToList();
        if (props.Count == 0) return null;
        var (name, (kind, _)) = Choose(props);
        var value = kind switch { SpecOracle.Kind.Int => IntValue(), SpecOracle.Kind.Double => DoubleValue(), _ => random.Next(2) == 0 ? "true" : "false" };
        var argument = $"{name} = {value}";
        if (target.ArgumentList is null) return Replace(text, new TextSpanLike(target.Span.End, target.Span.End), "(" + argument + ")");
        var list = target.ArgumentList;
        var insert = list.Arguments.Count == 0 ? argument : ", " + argument;
        return Replace(text, new TextSpanLike(list.CloseParenToken.SpanStart, list.CloseParenToken.SpanStart), insert);
    }

    string? DeleteArgument(string text)
    {
        var root = Parse(text);
        var lists = Attributes(root).Where(a => a.ArgumentList is { Arguments.Count: > 0 }).Select(a => a.ArgumentList!).ToList();
        if (lists.Count == 0) return null;
        var list = Choose(lists);
        var argument = list.Arguments[random.Next(list.Arguments.Count)];
        return root.ReplaceNode(list, list.WithArguments(list.Arguments.Remove(argument))).ToFullString();
    }

    string? DuplicateArgument(string text)
    {
        var root = Parse(text);
        var arguments = Attributes(root).SelectMany(a => a.ArgumentList?.Arguments ?? default).Where(a => a.NameEquals is not null).ToList();
        if (arguments.Count == 0) return null;
        var argument = Choose(arguments);
        return Replace(text, new TextSpanLike(argument.Span.End, argument.Span.End), ", " + argument);
    }

    string? DeleteAttribute(string text)
    {
        var root = Parse(text);
        var lists = root.DescendantNodes().OfType<AttributeListSyntax>().ToList();
        if (lists.Count == 0) return null;
        return Replace(text, Choose(lists).FullSpan, "");
    }

    string? DuplicateAttribute(string text)
    {
        var root = Parse(text);
        var lists = root.DescendantNodes().OfType<AttributeListSyntax>().ToList();
        if (lists.Count == 0) return null;
        var list = Choose(lists);
        return Replace(text, new TextSpanLike(list.Span.End, list.Span.End), "\n" + list);
    }

    string? SwapAttributeName(string text)
    {
        var attributes = Attributes(Parse(text));
        if (attributes.Count == 0) return null;
        var target = Choose(attributes);
        var names = SpecOracle.Properties.Keys.Where(n => n != target.Name.ToString()).ToList();
        return Replace(text, target.Name.Span, Choose(names));
    }

    string? Truncate(string text) => text.Length < 2 ? null : text[..random.Next(1, text.Length)];

    string? RemovePartial(string text)
    {
        var root = Parse(text);
        var partials = root.DescendantNodes().OfType<ClassDeclarationSyntax>()
            .SelectMany(c => c.Modifiers.Where(m => m.IsKind(SyntaxKind.PartialKeyword))).ToList();
        if (partials.Count == 0) return null;
        var token = Choose(partials);
        return Replace(text, token.FullSpan, "");
    }

    string? Nest(string text)
    {
        var root = Parse(text);
        var classes = root.DescendantNodes().OfType<ClassDeclarationSyntax>().Where(c => c.AttributeLists.Count > 0).ToList();
        if (classes.Count == 0) return null;
        var target = Choose(classes);
        var outer = $"public static partial class Outer{random.Next(100)}\n{{\n{target.ToFullString()}\n}}\n";
        return Replace(text, target.FullSpan, outer);
    }

    /// <summary>Renames a spec class, sometimes to a name the generated code uses (COLAR021), sometimes breaking a typeof.</summary>
    string? Rename(string text)
    {
        var root = Parse(text);
        var classes = root.DescendantNodes().OfType<ClassDeclarationSyntax>().Where(c => c.AttributeLists.Count > 0).ToList();
        if (classes.Count == 0) return null;
        var target = Choose(classes);
        var name = Choose(new[] { "Mlp", "Decoder", "Block", "Hidden", "Spec", "Backbone", "Generate", "Tensor", "Linear", "Forward", "Renamed" });
        return Replace(text, target.Identifier.Span, name);
    }

    string? MakeGeneric(string text)
    {
        var root = Parse(text);
        var classes = root.DescendantNodes().OfType<ClassDeclarationSyntax>().Where(c => c.AttributeLists.Count > 0 && c.TypeParameterList is null).ToList();
        if (classes.Count == 0) return null;
        var target = Choose(classes);
        return Replace(text, new TextSpanLike(target.Identifier.Span.End, target.Identifier.Span.End), "<T>");
    }
}
