using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CoLaR.Models.Bench;

/// <summary>
/// Side-by-side timing. Every figure the bench reports is a ratio of two medians measured in the same
/// rounds: each round runs every case once, in alternating order (A B, then B A), so a machine that gets
/// slower or faster during the run moves both sides alike.
/// </summary>
public static class Measure
{
    /// <summary>One measured case: runs once and returns the seconds that count (setup it does itself stays out).</summary>
    public sealed record Case(string Name, Func<double> Run);

    /// <summary>Runs every case <paramref name="warmup"/> times, then <paramref name="rounds"/> interleaved rounds. Returns each case's samples in seconds.</summary>
    public static Dictionary<string, double[]> Interleaved(int warmup, int rounds, params Case[] cases)
    {
        for (int w = 0; w < warmup; w++)
            foreach (var c in cases) c.Run();
        var samples = cases.ToDictionary(c => c.Name, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
        {
            var order = r % 2 == 0 ? cases : cases.Reverse().ToArray();
            foreach (var c in order) samples[c.Name].Add(c.Run());
        }
        return samples.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    /// <summary>Seconds <paramref name="action"/> takes.</summary>
    public static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Median of the per-round ratios a/b (pairs from the same round).</summary>
    public static double MedianRatio(IReadOnlyList<double> a, IReadOnlyList<double> b) =>
        Median(a.Zip(b, (x, y) => x / y).ToArray());

    /// <summary>Frees what the .NET side still holds (finalisers release native tensors), outside any timed region.</summary>
    public static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}

/// <summary>Process memory as Linux and glibc see it.</summary>
public static class Memory
{
    /// <summary>Resident set size (VmRSS) in bytes, or NaN where /proc is missing.</summary>
    public static double Rss() => StatusField("VmRSS:");

    /// <summary>Anonymous resident memory (RssAnon: heaps, mmapped tensors) in bytes.</summary>
    public static double RssAnon() => StatusField("RssAnon:");

    /// <summary>File-backed resident memory (RssFile: the pages of libtorch and the runtime that were touched) in bytes.</summary>
    public static double RssFile() => StatusField("RssFile:");

    /// <summary>Peak resident set size (VmHWM) in bytes since start or the last <see cref="ResetPeakRss"/>.</summary>
    public static double PeakRss() => StatusField("VmHWM:");

    /// <summary>Resets VmHWM to the current RSS (Linux ≥ 4.0: "5" to /proc/self/clear_refs). False where not allowed.</summary>
    public static bool ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (Exception) { return false; }
    }

    static double StatusField(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return double.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return double.NaN;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    static extern MallInfo2 MallInfo();

    static bool? _haveMallInfo;

    /// <summary>(arena bytes from the heaps, free bytes held in them, mmapped bytes), from mallinfo2.</summary>
    public static (double Arena, double Free, double Mmapped) MallocHeaps()
    {
        try { var m = MallInfo(); return (m.Arena, m.FordBlks, m.HBlkHd); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return (double.NaN, double.NaN, double.NaN); }
    }

    /// <summary>Bytes glibc malloc has handed out and not had back (heap in use + mmapped chunks): libtorch's CPU tensors live there. NaN off glibc.</summary>
    public static double MallocInUse()
    {
        if (_haveMallInfo == false) return double.NaN;
        try
        {
            var m = MallInfo();
            _haveMallInfo = true;
            return (double)m.UordBlks + m.HBlkHd;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _haveMallInfo = false;
            return double.NaN;
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> while a sampler thread polls <see cref="MallocInUse"/>; returns the
    /// highest value seen minus the value before (the native bytes the action needed at its peak). Used
    /// on untimed runs only: the sampler takes CPU.
    /// </summary>
    public static double PeakMallocDuring(Action action)
    {
        double before = MallocInUse();
        if (double.IsNaN(before)) { action(); return double.NaN; }
        double peak = before;
        using var stop = new ManualResetEventSlim();
        var sampler = new Thread(() =>
        {
            while (!stop.IsSet)
            {
                double now = MallocInUse();
                if (now > peak) peak = now;
                Thread.Sleep(0);
                stop.Wait(1);
            }
        }) { IsBackground = true, Priority = ThreadPriority.Highest };
        sampler.Start();
        action();
        double end = MallocInUse();
        stop.Set();
        sampler.Join();
        return Math.Max(peak, end) - before;
    }
}
