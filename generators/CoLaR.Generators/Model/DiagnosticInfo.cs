using CoLaR.Generators.Helpers;
using Microsoft.CodeAnalysis;

namespace CoLaR.Generators.Model
{
    /// <summary>A diagnostic as equatable values (Roslyn's <see cref="Diagnostic"/> compares by reference).</summary>
    internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
    {
        public Diagnostic ToDiagnostic() =>
            Diagnostic.Create(Descriptor, Location?.ToLocation(), Arguments.Items.ToObjectArray());
    }

    internal static class ObjectArray
    {
        public static object?[] ToObjectArray<T>(this System.Collections.Immutable.ImmutableArray<T> items)
        {
            var result = new object?[items.Length];
            for (int i = 0; i < items.Length; i++) result[i] = items[i];
            return result;
        }
    }
}
