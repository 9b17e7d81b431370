using System.Runtime.CompilerServices;
using CoLaR.Native;
using TorchSharp;

namespace CoLaR.Tests;

/// <summary>
/// Compiled into every test project. Test projects run side by side (and the end-to-end tests start `colar` processes): with every process
/// using libtorch's default of one OpenMP thread per core, two cores would be oversubscribed and OpenMP's
/// spin-waiting would slow every test down many times. One thread per test process keeps them independent,
/// and makes the numerics of trained fixtures the same on every machine, whatever its core count.
/// </summary>
internal static class OneThread
{
#pragma warning disable CA2255 // must run before libtorch (and its OpenMP runtime) is loaded
    [ModuleInitializer]
    internal static void Set()
    {
        // For the `colar` processes the tests start (.NET hands its own copy of the environment to children).
        var requested = Environment.GetEnvironmentVariable("OMP_NUM_THREADS");
        if (requested is null)
            Environment.SetEnvironmentVariable("OMP_NUM_THREADS", "1");

        // For this process: that variable never reaches the C environment libtorch reads, so set the count directly.
        int threads = int.TryParse(requested, out var n) && n > 0 ? n : 1;
        try
        {
            TorchNative.EnsureLoaded();
            torch.set_num_threads(threads);
        }
        catch (NativeLoadException)
        {
            // The tests that need libtorch report why it did not load; the rest still run.
        }
    }
#pragma warning restore CA2255
}
