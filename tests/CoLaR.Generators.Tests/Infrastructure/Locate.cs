using Microsoft.CodeAnalysis;

namespace CoLaR.Generators.Tests.Infrastructure;

/// <summary>Expected positions: where a piece of text is in a source, as 1-based line and column.</summary>
public static class Locate
{
    /// <summary>The (line, column) of the <paramref name="occurrence"/>-th <paramref name="text"/> in <paramref name="source"/>, 1-based.</summary>
    public static (int Line, int Column) Of(string source, string text, int occurrence = 1)
    {
        int index = -1;
        for (int i = 0; i < occurrence; i++)
        {
            index = source.IndexOf(text, index + 1, StringComparison.Ordinal);
            if (index < 0) throw new ArgumentException($"'{text}' (occurrence {occurrence}) is not in the source");
        }
        var before = source[..index].Replace("\r\n", "\n");
        int line = before.Count(c => c == '\n') + 1;
        int column = index - (before.LastIndexOf('\n') + 1) + 1;
        return (line, column);
    }

    /// <summary>A diagnostic's start as 1-based (line, column), and the source text it covers.</summary>
    public static (int Line, int Column, string Text) Where(Diagnostic d, string source)
    {
        var span = d.Location.GetLineSpan();
        var start = span.StartLinePosition;
        return (start.Line + 1, start.Character + 1, source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
    }
}
