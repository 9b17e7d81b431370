using System.Runtime.CompilerServices;

namespace CoLaR.Tests;

/// <summary>
/// Compiled into every test project. Test projects run side by side (and the end-to-end tests start `colar` processes): with every process
/// using libtorch's default of one OpenMP thread per core, two cores would be oversubscribed and OpenMP's
/// spin-waiting would slow every test down many times. One thread per test process keeps them independent.
/// </summary>
internal static class OneThread
{
#pragma warning disable CA2255 // must run before libtorch (and its OpenMP runtime) is loaded
    [ModuleInitializer]
    internal static void Set()
    {
        if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null)
            Environment.SetEnvironmentVariable("OMP_NUM_THREADS", "1");
    }
#pragma warning restore CA2255
}
