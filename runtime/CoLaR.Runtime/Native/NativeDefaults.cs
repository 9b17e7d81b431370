using System.Runtime.InteropServices;

namespace CoLaR.Native;

/// <summary>
/// Two settings of the C libraries under libtorch that colar chooses for the user, each measured on the
/// project's 2-vCPU machine (docs/performance.md), each left alone when the user has set it:
/// <list type="bullet">
/// <item><b>OpenMP waiting.</b> libtorch's CPU kernels and MKL's matmuls run on GNU OpenMP, whose idle
/// threads by default spin for ~300,000 iterations (milliseconds) before sleeping: very bad when other processes want
/// the same cores (72% of a training step's CPU samples were libgomp spinning; steps 2.5–4× slower), while
/// never spinning (<c>OMP_WAIT_POLICY=PASSIVE</c>, the default until 2026-12) makes every parallel region wake
/// a sleeping thread: the demo's CoLaR step ran 1.29× slower on a quiet 2-vCPU machine. colar sets
/// <c>GOMP_SPINCOUNT=1000</c> (about 10 µs of spinning, enough to bridge the gap between two kernels of one step):
/// 5.8 steps/s alone against 4.5 passive and 6.2 spinning without limit; two processes sharing the cores
/// each run at 2.9–3.0 against 3.1 passive and 1.6 at 10,000 spins (docs/performance.md). Left alone when
/// <c>OMP_WAIT_POLICY</c> or <c>GOMP_SPINCOUNT</c> is set. libgomp reads it once, when it loads, so this runs
/// before libtorch loads.</item>
/// <item><b>glibc heap retention.</b> By default glibc raises its mmap and trim thresholds as it goes and
/// trims the heap top now and then, so a training process's RSS wanders by ±10% with no leak (tensors in
/// use stay flat). colar fixes the mmap threshold at glibc's own ceiling (32 MB) and the trim threshold at
/// 64 MB: a step's buffers come from the heap (no fresh mapping per large tensor), and the free top of the
/// heap beyond 64 MB goes back to the system after each step. With a 1 GB trim threshold (the default until
/// 2026-12) nothing went back, and the holes left as batch shapes changed made RSS grow by 15–25% between
/// steps 100 and 1,000; at 64 MB it stays flat (−4% to −9%). The price is page faults when the next step
/// takes the memory back: within run-to-run noise at the demo's size, up to ~10% of a CPU step for a 24 M-parameter
/// model (docs/performance.md; CUDA tensors do not live on this heap). <see cref="ReleaseRetained"/> gives the
/// rest back when training ends.
/// Skipped when <c>MALLOC_TRIM_THRESHOLD_</c>, <c>MALLOC_MMAP_THRESHOLD_</c> or glibc.malloc tunables are set.</item>
/// </list>
/// </summary>
public static class NativeDefaults
{
    const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3;
    public const int MmapThreshold = 32 << 20;
    public const long TrimThreshold = 64L << 20;
    /// <summary>How long an idle OpenMP thread spins before it sleeps, in libgomp's iterations (~100 per µs).</summary>
    public const int SpinCount = 1000;

    /// <summary>The OpenMP wait policy in effect: the user's, or the one set here.</summary>
    public static string OpenMpWait { get; private set; } = "libgomp default";

    /// <summary>The malloc settings in effect: the user's, or the ones set here.</summary>
    public static string Malloc { get; private set; } = "glibc default";

    static bool _applied;

    /// <summary>Applies both defaults (idempotent; Linux only). Call before libtorch loads.</summary>
    public static void Apply()
    {
        if (_applied) return;
        _applied = true;
        if (!OperatingSystem.IsLinux()) return;
        ApplyOpenMp();
        ApplyMalloc();
    }

    static void ApplyOpenMp()
    {
        var policy = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        var spin = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT");
        if (!string.IsNullOrEmpty(policy)) { OpenMpWait = $"OMP_WAIT_POLICY={policy} (user)"; return; }
        if (!string.IsNullOrEmpty(spin)) { OpenMpWait = $"GOMP_SPINCOUNT={spin} (user)"; return; }
        try
        {
            // Environment.SetEnvironmentVariable changes only .NET's copy on Unix; libgomp reads the C environment.
            if (setenv("GOMP_SPINCOUNT", SpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture), 0) == 0)
                OpenMpWait = $"GOMP_SPINCOUNT={SpinCount} (colar default)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    static void ApplyMalloc()
    {
        foreach (var name in new[] { "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_" })
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) { Malloc = $"{name} set (user)"; return; }
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { } tunables && tunables.Contains("glibc.malloc", StringComparison.Ordinal))
        {
            Malloc = "GLIBC_TUNABLES (user)";
            return;
        }
        try
        {
            if (mallopt(M_MMAP_THRESHOLD, MmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)Math.Min(TrimThreshold, int.MaxValue)) == 1)
                Malloc = $"mmap threshold {MmapThreshold >> 20} MB, trim threshold {TrimThreshold >> 20} MB (colar default)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>
    /// Hands memory nobody uses back to the system: a full .NET collection (finalisers free native tensors
    /// that were never disposed), then glibc's <c>malloc_trim</c>. For the end of a training run; cheap
    /// enough (milliseconds) but the next step would have to fault the pages back in.
    /// </summary>
    public static void ReleaseRetained()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (!OperatingSystem.IsLinux()) return;
        try { malloc_trim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc")]
    static extern int mallopt(int param, int value);

    [DllImport("libc")]
    static extern int malloc_trim(nuint pad);
}
