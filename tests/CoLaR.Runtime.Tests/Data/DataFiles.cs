namespace CoLaR.Runtime.Tests.Data;

/// <summary>Paths of the real held-out sets (../shared/data from the repository root) and scratch files.</summary>
internal static class DataFiles
{
    static readonly Lazy<string> s_root = new(FindRepositoryRoot);

    /// <summary>The directory holding CoLaR.sln.</summary>
    public static string RepositoryRoot => s_root.Value;

    public static string Gsm8kValid => Shared("gsm8k-aug", "valid.txt");
    public static string Mult4x4Valid => Shared("mult-4x4", "valid.txt");
    public static string Mult5x5Valid => Shared("mult-5x5", "valid.txt");

    static string Shared(string folder, string file)
    {
        var path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", folder, file));
        if (!File.Exists(path)) throw new FileNotFoundException($"Real data file missing: {path} (expected ../shared/data next to the repository).", path);
        return path;
    }

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CoLaR.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No CoLaR.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>A fresh empty directory under the system temp folder, removed on dispose.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "colar-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
