using System;
using System.Globalization;
using System.Text;

namespace CoLaR.Generators.Helpers
{
    /// <summary>An indenting string builder: <c>using (w.Block("class X")) { ... }</c> writes the braces.</summary>
    internal sealed class SourceWriter
    {
        private readonly StringBuilder _text = new();
        private int _indent;

        public SourceWriter Line(string line = "")
        {
            if (line.Length == 0) { _text.Append('\n'); return this; }
            _text.Append(' ', _indent * 4).Append(line).Append('\n');
            return this;
        }

        /// <summary>Writes several lines, each indented (a raw multi-line string).</summary>
        public SourceWriter Lines(string text)
        {
            foreach (var line in text.Replace("\r\n", "\n").Split('\n')) Line(line.TrimEnd());
            return this;
        }

        public IDisposable Block(string header, string close = "}")
        {
            Line(header);
            Line("{");
            _indent++;
            return new Closer(this, close);
        }

        public void Indent() => _indent++;
        public void Outdent() => _indent--;

        public override string ToString() => _text.ToString();

        private sealed class Closer : IDisposable
        {
            private readonly SourceWriter _writer;
            private readonly string _close;
            public Closer(SourceWriter writer, string close) { _writer = writer; _close = close; }
            public void Dispose() { _writer._indent--; _writer.Line(_close); }
        }
    }

    internal static class Literal
    {
        /// <summary>A C# double literal that round-trips, in the invariant culture.</summary>
        public static string Double(double value)
        {
            if (double.IsNaN(value)) return "double.NaN";
            if (double.IsPositiveInfinity(value)) return "double.PositiveInfinity";
            if (double.IsNegativeInfinity(value)) return "double.NegativeInfinity";
            var s = value.ToString("R", CultureInfo.InvariantCulture);
            if (s.IndexOfAny(new[] { '.', 'E', 'e' }) < 0 && !s.Contains("Infinity") && !s.Contains("NaN")) s += ".0";
            return s;
        }

        public static string Bool(bool value) => value ? "true" : "false";

        public static string String(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }
}
