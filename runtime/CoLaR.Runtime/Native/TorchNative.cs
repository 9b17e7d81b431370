using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;

namespace CoLaR.Native;

/// <summary>How the native TorchSharp bridge (libLibTorchSharp.so) was, or will be, loaded.</summary>
public enum LoadPlanKind
{
    /// <summary>The system libstdc++ provides every version the bridge asks for: load it unmodified.</summary>
    Original,
    /// <summary>Only known-harmless versions are missing: load a copy with those requirements marked weak.</summary>
    PatchedCopy,
    /// <summary>Something the bridge really calls is missing: refuse, naming the cause and the fix.</summary>
    Refuse,
}

/// <summary>The decision, with the versions it is about and a sentence for the user.</summary>
public sealed record LoadPlan(LoadPlanKind Kind, IReadOnlyList<string> MissingVersions, string Explanation)
{
    /// <summary>
    /// Symbols that libLibTorchSharp.so references but never calls. TorchSharp 0.107 was built with
    /// GCC 13, whose headers reference <c>std::ios_base_library_init()</c> (GLIBCXX_3.4.32) from every
    /// object that includes &lt;iostream&gt;; older libstdc++ initialises iostreams itself.
    /// </summary>
    public static readonly IReadOnlySet<string> HarmlessSymbols = new HashSet<string>(StringComparer.Ordinal)
    {
        "_ZSt21ios_base_library_initv",
    };

    /// <summary>Pure decision from the versions the system library lacks and the symbols bound to each.</summary>
    public static LoadPlan Decide(IReadOnlyList<(string Version, IReadOnlyList<string> Symbols)> missing, string libstdcxxPath)
    {
        if (missing.Count == 0)
            return new(LoadPlanKind.Original, Array.Empty<string>(), $"{libstdcxxPath} provides every symbol version libLibTorchSharp.so needs");
        var versions = missing.Select(m => m.Version).ToArray();
        var harmful = missing.SelectMany(m => m.Symbols).Where(s => !HarmlessSymbols.Contains(s)).Distinct().ToArray();
        if (harmful.Length == 0)
            return new(LoadPlanKind.PatchedCopy, versions,
                $"{libstdcxxPath} lacks {string.Join(", ", versions)}; the only symbol bound to it is referenced but never called, " +
                "so a copy of libLibTorchSharp.so with that requirement marked weak is loaded instead");
        return new(LoadPlanKind.Refuse, versions,
            $"libLibTorchSharp.so needs {string.Join(", ", versions)} from libstdc++.so.6, but {libstdcxxPath} lacks it " +
            $"(symbols: {string.Join(", ", harmful.Take(5))}{(harmful.Length > 5 ? ", ..." : "")}). " +
            "Fix: use a system with GCC 13's libstdc++ or newer (Ubuntu 24.04, Debian 13), or put a newer libstdc++.so.6 " +
            "first on LD_LIBRARY_PATH (for example conda's libstdcxx-ng >= 13).");
    }
}

/// <summary>Thrown when libtorch cannot be loaded; the message names the cause and the fix.</summary>
public sealed class NativeLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Loads TorchSharp's native bridge on every Linux users have. TorchSharp 0.107's
/// libLibTorchSharp.so requires GLIBCXX_3.4.32 (GCC 13) for one symbol it never calls; Debian 12 and
/// Ubuntu 22.04 ship GLIBCXX_3.4.30, where TorchSharp fails with a misleading "doesn't contain a
/// reference to libtorch-cpu" error. We read the ELF version requirements, compare them with the
/// libstdc++ the process actually loaded, and either load the original (new enough systems), load a
/// cached copy with the harmless requirement marked weak, or refuse with the cause and the fix.
/// </summary>
public static class TorchNative
{
    const string BridgeFile = "libLibTorchSharp.so";
    static readonly object Gate = new();
    static bool _installed, _resolverInstalled;
    static IntPtr _bridge;

    /// <summary>What the loader decided, once it ran (null before, or off Linux).</summary>
    public static LoadPlan? Plan { get; private set; }

    /// <summary>The file that was loaded as the bridge.</summary>
    public static string? LoadedBridge { get; private set; }

    /// <summary>Why loading failed, if it did.</summary>
    public static string? Failure { get; private set; }

#pragma warning disable CA2255 // Deliberate: the resolver must be in place before TorchSharp's first P/Invoke.
    [ModuleInitializer]
    internal static void InstallOnLoad()
    {
        // TorchSharp probes for its bridge with NativeLibrary.TryLoad, which does not consult DllImport
        // resolvers; once our copy is loaded, that probe finds it by soname. Failures are recorded, not
        // thrown: EnsureLoaded reports them with the fix.
        NativeDefaults.Apply(); // OpenMP and malloc settings: before libgomp loads with the bridge
        Install();
        LoadBridge();
    }
#pragma warning restore CA2255

    /// <summary>Routes TorchSharp's load of "LibTorchSharp" through <see cref="LoadBridge"/>. Cheap; idempotent.</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (_installed) return;
            _installed = true;
            if (!OperatingSystem.IsLinux()) return;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) =>
                    name == "LibTorchSharp" ? LoadBridge() : IntPtr.Zero);
                _resolverInstalled = true;
            }
            catch (InvalidOperationException)
            {
                // The application set its own resolver for TorchSharp: it has taken charge of loading.
            }
        }
    }

    /// <summary>Loads libtorch now (CPU), turning any failure into a <see cref="NativeLoadException"/> that says what to do.</summary>
    public static void EnsureLoaded()
    {
        Install();
        // TorchSharp's static constructor probes with NativeLibrary.TryLoad(name, assembly, ...), which does
        // not consult DllImport resolvers, so the resolver alone comes too late. Load the bridge first: the
        // probe of the bare "libLibTorchSharp.so" then finds the loaded copy by its soname.
        if (_resolverInstalled && LoadBridge() == IntPtr.Zero)
            throw new NativeLoadException("libtorch could not be loaded: " + Failure);
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is not NativeLoadException)
        {
            throw new NativeLoadException(
                "libtorch could not be loaded: " + (Failure ?? Innermost(e).Message.Split('\n')[0]) +
                ". The project references TorchSharp-cpu 0.107.0 (libtorch 2.10.0); run `dotnet build` once so the native files are restored.", e);
        }
    }

    static Exception Innermost(Exception e) { while (e.InnerException is not null) e = e.InnerException; return e; }

    /// <summary>Finds, checks and loads the bridge; returns IntPtr.Zero (and records why) when it cannot.</summary>
    static IntPtr LoadBridge()
    {
        lock (Gate)
        {
            if (_bridge != IntPtr.Zero || !OperatingSystem.IsLinux()) return _bridge;
            try
            {
                var original = FindBridge() ?? throw new NativeLoadException(
                    $"{BridgeFile} was not found next to the application ({AppContext.BaseDirectory}); is a TorchSharp-cpu or TorchSharp-cuda-linux package referenced?");
                var image = ElfImage.Load(original);
                var dir = System.IO.Path.GetDirectoryName(original)!;

                // Load the bridge's own dependencies from its directory first: the patched copy lives
                // elsewhere, and the dynamic loader then matches its NEEDED entries by soname.
                foreach (var needed in image.NeededLibraries())
                {
                    var sibling = System.IO.Path.Combine(dir, needed);
                    if (File.Exists(sibling)) NativeLibrary.Load(sibling);
                }
                var libstdcxx = LoadedLibraryPath("libstdc++.so.6");
                if (libstdcxx is null && NativeLibrary.TryLoad("libstdc++.so.6", out _)) libstdcxx = LoadedLibraryPath("libstdc++.so.6");
                if (libstdcxx is null) throw new NativeLoadException("libstdc++.so.6 could not be loaded; install the system C++ runtime (libstdc++6).");

                Plan = PlanFor(image, ElfImage.Load(libstdcxx), libstdcxx);
                if (Environment.GetEnvironmentVariable("COLAR_NATIVE_PATCH") == "0" && Plan.Kind == LoadPlanKind.PatchedCopy)
                    Plan = Plan with { Kind = LoadPlanKind.Refuse, Explanation = Plan.Explanation + " (patching disabled by COLAR_NATIVE_PATCH=0)" };

                string path = Plan.Kind switch
                {
                    LoadPlanKind.Original => original,
                    LoadPlanKind.PatchedCopy => PatchedCopy(image, Plan.MissingVersions),
                    _ => throw new NativeLoadException(Plan.Explanation),
                };
                _bridge = NativeLibrary.Load(path);
                LoadedBridge = path;
                return _bridge;
            }
            catch (Exception e)
            {
                Failure = e.Message;
                return IntPtr.Zero;
            }
        }
    }

    /// <summary>The decision for a bridge image against the libstdc++ image that is loaded.</summary>
    public static LoadPlan PlanFor(ElfImage bridge, ElfImage libstdcxx, string libstdcxxPath)
    {
        var provided = libstdcxx.VersionDefinitions();
        var missing = bridge.VersionNeeds()
            .Where(n => n.Library == "libstdc++.so.6" && !n.Weak && !provided.Contains(n.Version))
            .Select(n => (n.Version, bridge.SymbolsRequiring(n.Index)))
            .ToList();
        return LoadPlan.Decide(missing, libstdcxxPath);
    }

    /// <summary>Writes (once, atomically) a copy of the bridge with the given versions marked weak, in a per-user cache keyed by the original's hash.</summary>
    static string PatchedCopy(ElfImage original, IReadOnlyList<string> versions)
    {
        var hash = Convert.ToHexString(SHA256.HashData(original.Bytes))[..16].ToLowerInvariant();
        var target = System.IO.Path.Combine(CacheRoot(), hash, BridgeFile);
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        var copy = new ElfImage(target, (byte[])original.Bytes.Clone());
        copy.MarkVersionsWeak(versions);
        var temp = target + "." + Environment.ProcessId + ".tmp";
        File.WriteAllBytes(temp, copy.Bytes);
        File.Move(temp, target, overwrite: true); // atomic: concurrent processes write identical bytes
        return target;
    }

    static string CacheRoot()
    {
        var explicitRoot = Environment.GetEnvironmentVariable("COLAR_NATIVE_CACHE");
        if (!string.IsNullOrEmpty(explicitRoot)) return explicitRoot;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrEmpty(xdg) ? xdg : !string.IsNullOrEmpty(home) ? System.IO.Path.Combine(home, ".cache") : System.IO.Path.GetTempPath();
        return System.IO.Path.Combine(root, "colar", "native");
    }

    /// <summary>The bridge the .NET host would load: the native search directories from the app's deps.json, then the app folder.</summary>
    public static string? FindBridge()
    {
        var dirs = (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(AppContext.BaseDirectory)
            .Append(System.IO.Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"));
        return dirs.Select(d => System.IO.Path.Combine(d, BridgeFile)).FirstOrDefault(File.Exists);
    }

    /// <summary>The path of a library already mapped into this process, from /proc/self/maps.</summary>
    internal static string? LoadedLibraryPath(string fileName)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash < 0) continue;
                var path = line[slash..];
                if (System.IO.Path.GetFileName(path) == fileName || System.IO.Path.GetFileName(path).StartsWith(fileName + ".", StringComparison.Ordinal))
                    return path;
            }
        }
        catch (IOException) { }
        return null;
    }
}
