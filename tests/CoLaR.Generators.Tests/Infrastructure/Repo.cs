namespace CoLaR.Generators.Tests.Infrastructure;

/// <summary>Paths in the repository, found by walking up from the test binaries to CoLaR.sln.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The test project's folder (snapshots live under it).</summary>
    public static string TestProject => Path("tests", "CoLaR.Generators.Tests");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "CoLaR.sln"))) return dir.FullName;
        throw new InvalidOperationException("CoLaR.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The shipped spec files (models/Backbones, models/Reasoners), relative to the root, sorted.</summary>
    public static IReadOnlyList<string> ShippedSpecFiles() =>
        new[] { Path("models", "Backbones"), Path("models", "Reasoners") }
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{System.IO.Path.DirectorySeparatorChar}obj{System.IO.Path.DirectorySeparatorChar}"))
            .Select(f => System.IO.Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
}
