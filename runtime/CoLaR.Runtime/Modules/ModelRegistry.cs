namespace CoLaR.Modules;

/// <summary>A declared reasoner, registered by its generated code when its assembly loads.</summary>
public sealed record ModelEntry(ReasonerSpec Spec, Type Type, Func<ReasonerModule> Create)
{
    public string Name => Spec.Name;
}

/// <summary>Every reasoner declared in the loaded assemblies, by name (what `colar list` prints).</summary>
public static class ModelRegistry
{
    static readonly Dictionary<string, ModelEntry> Entries = new(StringComparer.OrdinalIgnoreCase);
    static readonly object Gate = new();

    /// <summary>Called from each generated reasoner's module initializer.</summary>
    public static void Register(ReasonerSpec spec, Type type, Func<ReasonerModule> create)
    {
        lock (Gate) Entries[spec.Name] = new ModelEntry(spec, type, create);
    }

    public static IReadOnlyList<ModelEntry> All
    {
        get { lock (Gate) return Entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).ToList(); }
    }

    public static bool TryGet(string name, out ModelEntry entry)
    {
        lock (Gate) return Entries.TryGetValue(name, out entry!);
    }

    /// <summary>The entry for <paramref name="name"/>, or an error listing what is declared.</summary>
    public static ModelEntry Get(string name)
    {
        if (TryGet(name, out var entry)) return entry;
        var known = string.Join(", ", All.Select(e => e.Name));
        throw new KeyNotFoundException($"no model named '{name}' is declared; declared models: {(known.Length == 0 ? "(none)" : known)}");
    }
}
