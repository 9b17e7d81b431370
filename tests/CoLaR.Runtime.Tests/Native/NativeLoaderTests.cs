using CoLaR.Native;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace CoLaR.Runtime.Tests.Native;

/// <summary>The ELF reader against the real libLibTorchSharp.so, the load decision, and libtorch working in this process.</summary>
public sealed class NativeLoaderTests : IDisposable
{
    const string HarmlessVersion = "GLIBCXX_3.4.32";
    const string HarmlessSymbol = "_ZSt21ios_base_library_initv";

    readonly ITestOutputHelper _output;
    readonly string _scratch = Path.Combine(Path.GetTempPath(), "colar-native-tests", Guid.NewGuid().ToString("n"));

    public NativeLoaderTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_scratch);
    }

    public void Dispose()
    {
        try { Directory.Delete(_scratch, recursive: true); } catch (IOException) { }
    }

    static string Bridge() => TorchNative.FindBridge() ?? throw new Xunit.Sdk.XunitException("libLibTorchSharp.so not found next to the test assembly");

    [Fact]
    public void TestProcessRunsTheThreadCountItAskedFor()
    {
        // tests/Shared/OneThread.cs: one intra-op thread unless OMP_NUM_THREADS says otherwise, so fixtures train
        // the same way on every machine. (The variable alone would not do: libtorch never sees .NET's copy.)
        var requested = Environment.GetEnvironmentVariable("OMP_NUM_THREADS");
        Assert.Equal(requested is null ? 1 : int.Parse(requested, System.Globalization.CultureInfo.InvariantCulture), torch.get_num_threads());
    }

    [Fact]
    public void BridgeNeedsGlibcxx3432ForOneHarmlessSymbol()
    {
        var image = ElfImage.Load(Bridge());
        Assert.Contains("libstdc++.so.6", image.NeededLibraries());
        var need = Assert.Single(image.VersionNeeds(), n => n.Version == HarmlessVersion);
        Assert.Equal("libstdc++.so.6", need.Library);
        Assert.False(need.Weak);
        Assert.Equal(new[] { HarmlessSymbol }, image.SymbolsRequiring(need.Index));

        // Sanity: other versions from the same library are bound to many symbols, so the reader is not trivially empty.
        var other = image.VersionNeeds().First(n => n.Library == "libstdc++.so.6" && n.Version == "GLIBCXX_3.4");
        Assert.True(image.SymbolsRequiring(other.Index).Count > 10);
    }

    [Fact]
    public void MarkVersionsWeakSetsTheFlagAndNothingElse()
    {
        var path = Bridge();
        var original = File.ReadAllBytes(path);
        var image = new ElfImage(path, (byte[])original.Clone());
        Assert.Equal(1, image.MarkVersionsWeak(new[] { HarmlessVersion }));
        Assert.Equal(0, image.MarkVersionsWeak(new[] { HarmlessVersion })); // already weak

        var copy = Path.Combine(_scratch, "libLibTorchSharp.so");
        File.WriteAllBytes(copy, image.Bytes);
        var reparsed = ElfImage.Load(copy);
        var before = new ElfImage(path, original).VersionNeeds();
        var after = reparsed.VersionNeeds();
        Assert.Equal(before.Count, after.Count);
        foreach (var (b, a) in before.Zip(after))
        {
            Assert.Equal((b.Library, b.Version, b.Index), (a.Library, a.Version, a.Index));
            Assert.Equal(b.Version == HarmlessVersion || b.Weak, a.Weak);
        }
        // Exactly the two flag bytes differ.
        Assert.Equal(1, original.Zip(image.Bytes).Count(p => p.First != p.Second));
    }

    [Fact]
    public void DecideOriginalWhenNothingIsMissing()
    {
        var plan = LoadPlan.Decide(Array.Empty<(string, IReadOnlyList<string>)>(), "/usr/lib/libstdc++.so.6");
        Assert.Equal(LoadPlanKind.Original, plan.Kind);
        Assert.Empty(plan.MissingVersions);
    }

    [Fact]
    public void DecidePatchedCopyWhenOnlyTheHarmlessSymbolIsMissing()
    {
        var plan = LoadPlan.Decide(new[] { (HarmlessVersion, (IReadOnlyList<string>)new[] { HarmlessSymbol }) }, "/usr/lib/libstdc++.so.6");
        Assert.Equal(LoadPlanKind.PatchedCopy, plan.Kind);
        Assert.Equal(new[] { HarmlessVersion }, plan.MissingVersions);
        Assert.Contains("/usr/lib/libstdc++.so.6 lacks GLIBCXX_3.4.32", plan.Explanation);
    }

    [Fact]
    public void DecideRefuseWhenARealSymbolIsMissing()
    {
        var plan = LoadPlan.Decide(new[]
        {
            (HarmlessVersion, (IReadOnlyList<string>)new[] { HarmlessSymbol }),
            ("GLIBCXX_3.4.33", (IReadOnlyList<string>)new[] { "_ZNSt8__format5_SinkIcE8_M_writeEPKcm" }),
        }, "/usr/lib/libstdc++.so.6");
        Assert.Equal(LoadPlanKind.Refuse, plan.Kind);
        Assert.Equal(new[] { HarmlessVersion, "GLIBCXX_3.4.33" }, plan.MissingVersions);
        Assert.Contains("GLIBCXX_3.4.33", plan.Explanation);
        Assert.Contains("_ZNSt8__format5_SinkIcE8_M_writeEPKcm", plan.Explanation);
        Assert.DoesNotContain(HarmlessSymbol, plan.Explanation);
        Assert.Contains("Fix:", plan.Explanation);
        Assert.Contains("LD_LIBRARY_PATH", plan.Explanation);
        Assert.DoesNotContain('\n', plan.Explanation);
    }

    [Fact]
    public void PlanForTheSystemLibstdcxxMatchesWhatTheLoaderDid()
    {
        TorchNative.EnsureLoaded();
        var libstdcxx = TorchNative.LoadedLibraryPath("libstdc++.so.6");
        Assert.NotNull(libstdcxx);
        var system = ElfImage.Load(libstdcxx!);
        var plan = TorchNative.PlanFor(ElfImage.Load(Bridge()), system, libstdcxx!);

        var expected = system.VersionDefinitions().Contains(HarmlessVersion) ? LoadPlanKind.Original : LoadPlanKind.PatchedCopy;
        Assert.Equal(expected, plan.Kind);
        _output.WriteLine($"libstdc++: {libstdcxx}; newest GLIBCXX: {system.VersionDefinitions().Where(v => v.StartsWith("GLIBCXX_3.4.")).OrderBy(v => int.Parse(v["GLIBCXX_3.4.".Length..])).LastOrDefault()}");
        _output.WriteLine($"plan: {plan.Kind} — {plan.Explanation}");

        // EnsureLoaded ran the loader (it loads the bridge before TorchSharp probes for it): same decision.
        var used = TorchNative.Plan;
        Assert.NotNull(used);
        Assert.Equal(plan.Kind, used!.Kind);
        _output.WriteLine($"loaded bridge: {TorchNative.LoadedBridge}");
        if (used.Kind == LoadPlanKind.PatchedCopy)
        {
            Assert.NotEqual(Bridge(), TorchNative.LoadedBridge);
            var loaded = ElfImage.Load(TorchNative.LoadedBridge!);
            Assert.True(Assert.Single(loaded.VersionNeeds(), n => n.Version == HarmlessVersion).Weak);
            Assert.Equal(LoadPlanKind.Original, TorchNative.PlanFor(loaded, system, libstdcxx!).Kind); // nothing non-weak left missing
        }
        else
        {
            Assert.Equal(Bridge(), TorchNative.LoadedBridge);
        }
    }

    [Fact]
    public void TorchWorksInThisProcess()
    {
        TorchNative.EnsureLoaded();
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }).reshape(2, 2);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
        _output.WriteLine($"libtorch loaded with plan {TorchNative.Plan?.Kind.ToString() ?? "(none: loaded without the resolver)"} from {TorchNative.LoadedBridge ?? "?"}");
    }

    // ------------------------------------------------------------ malformed files

    string WriteScratch(string name, byte[] bytes)
    {
        var path = Path.Combine(_scratch, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void BadMagicIsNamed()
    {
        var bytes = File.ReadAllBytes(Bridge())[..4096];
        bytes[1] = (byte)'X';
        var path = WriteScratch("bad-magic.so", bytes);
        var e = Assert.Throws<InvalidDataException>(() => ElfImage.Load(path));
        Assert.Equal($"{path}: not an ELF file", e.Message);
    }

    [Fact]
    public void TinyFileIsNamed()
    {
        var path = WriteScratch("tiny.so", new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' });
        Assert.StartsWith(path + ": ", Assert.Throws<InvalidDataException>(() => ElfImage.Load(path)).Message);
    }

    [Fact]
    public void ThirtyTwoBitIsRefused()
    {
        var bytes = File.ReadAllBytes(Bridge())[..4096];
        bytes[4] = 1; // ELFCLASS32
        var path = WriteScratch("elf32.so", bytes);
        Assert.Equal($"{path}: only 64-bit little-endian ELF is supported", Assert.Throws<InvalidDataException>(() => ElfImage.Load(path)).Message);
    }

    [Fact]
    public void TruncatedFilesGiveInvalidDataExceptionNamingTheFile()
    {
        var original = File.ReadAllBytes(Bridge());
        foreach (var fraction in new[] { 0.001, 0.1, 0.5, 0.9, 0.999 })
        {
            var path = WriteScratch($"truncated-{fraction}.so", original[..(int)(original.Length * fraction)]);
            var e = Assert.Throws<InvalidDataException>(() =>
            {
                var image = ElfImage.Load(path);
                // Some truncations keep the section table; then the sections it points to lie outside the file.
                image.NeededLibraries();
                image.VersionNeeds();
                image.VersionDefinitions();
                foreach (var need in image.VersionNeeds()) image.SymbolsRequiring(need.Index);
            });
            Assert.StartsWith(path + ": ", e.Message);
        }
    }
}
