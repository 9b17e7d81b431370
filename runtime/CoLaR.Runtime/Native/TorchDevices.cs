using TorchSharp;

namespace CoLaR.Native;

/// <summary>Turns a user's <c>--device</c> value into a torch device, or an error that says what to install.</summary>
public static class TorchDevices
{
    /// <summary>"cpu", "cuda", "cuda:N" or "auto" (CUDA when usable, else CPU).</summary>
    public static torch.Device Resolve(string name)
    {
        TorchNative.EnsureLoaded();
        var n = (name ?? "auto").Trim().ToLowerInvariant();
        if (n == "cpu") return torch.CPU;
        if (n == "auto") return CudaUsable() ? torch.CUDA : torch.CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!CudaUsable())
                throw new NativeLoadException(CudaMissingReason());
            return new torch.Device(n);
        }
        throw new ArgumentException($"--device '{name}' is not one of cpu, cuda, cuda:N, auto");
    }

    static bool CudaUsable()
    {
        try { return torch.TryInitializeDeviceType(DeviceType.CUDA) && torch.cuda.is_available(); }
        catch (Exception) { return false; }
    }

    /// <summary>Why CUDA is unusable: the CPU-only package is installed, or no driver/device is visible.</summary>
    public static string CudaMissingReason()
    {
        var bridge = TorchNative.FindBridge();
        var dir = bridge is null ? AppContext.BaseDirectory : Path.GetDirectoryName(bridge)!;
        bool hasCudaLibtorch = File.Exists(Path.Combine(dir, "libtorch_cuda.so"));
        return hasCudaLibtorch
            ? "--device cuda: the CUDA build of libtorch is installed but no CUDA device is usable (check `nvidia-smi` and the driver version, CUDA 12.8 or newer)."
            : "--device cuda: this build has the CPU-only libtorch (TorchSharp-cpu). Rebuild with the CUDA package: " +
              "`dotnet build models -c Release -p:TorchBackend=cuda` (TorchSharp-cuda-linux 0.107.0; see docs/gpu.md).";
    }
}
