using CoLaR.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Training;

/// <summary>The dtype the backbone computes in (option <c>precision</c>).</summary>
public enum Precision
{
    /// <summary>bf16 on CUDA, fp32 on CPU (where bf16 matmuls are slower than fp32).</summary>
    Auto,
    /// <summary>Everything in float32.</summary>
    Fp32,
    /// <summary>Forward and backward in bfloat16 with fp32 master weights and fp32 losses (<see cref="MixedPrecision"/>).</summary>
    Bf16,
}

public static class Precisions
{
    /// <summary>Auto → Bf16 on CUDA, Fp32 elsewhere; the others as given.</summary>
    public static Precision Resolve(Precision precision, Device device) =>
        precision != Precision.Auto ? precision : device.type == DeviceType.CUDA ? Precision.Bf16 : Precision.Fp32;

    /// <summary>The working dtype of a resolved precision.</summary>
    public static ScalarType DType(Precision precision) => precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>The tensor in float32 (itself when it already is): losses are computed in fp32 whatever the working precision.</summary>
    public static Tensor Float32(Tensor t) => t.dtype == ScalarType.Float32 ? t : t.to(ScalarType.Float32);
}

/// <summary>
/// bf16 mixed precision by hand (TorchSharp 0.107 has no autocast): the model the optimizer, checkpoints and
/// training state see keeps fp32 master weights; a second instance of the same spec, in bfloat16 on the same
/// device, runs the forward and backward pass. Each step: the working copy's trainable weights are refreshed
/// from the masters, the loss (computed in fp32 by the objectives: logits and latent targets are cast) is
/// back-propagated through the bf16 copy, and its gradients are copied to the masters as fp32 for clipping
/// and the optimizer. Frozen weights (a LoRA model's backbone) are copied once.
/// </summary>
public sealed class MixedPrecision : IDisposable
{
    readonly ReasonerModule _master;
    readonly List<(TorchSharp.Modules.Parameter Master, TorchSharp.Modules.Parameter Working)> _pairs;

    /// <param name="master">The fp32 model (its parameters are what the optimizer updates).</param>
    /// <param name="device">Where the working copy lives (the master's device).</param>
    /// <param name="dtype">The working precision (bfloat16; float16 has no loss scaling here, so it is not offered).</param>
    public MixedPrecision(ReasonerModule master, Device device, ScalarType dtype = ScalarType.BFloat16)
    {
        _master = master;
        DType = dtype;
        Working = (ReasonerModule)Activator.CreateInstance(master.GetType())!;
        Working.to(dtype); // cast on the host first: the device only ever holds the bf16 copy
        Working.to(device);
        var working = Working.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        _pairs = master.named_parameters().Select(p => (p.parameter, working.TryGetValue(p.name, out var w) ? w
            : throw new InvalidOperationException($"the {dtype} working copy of {master.Specification.Name} has no parameter '{p.name}'"))).ToList();
        SyncAll();
    }

    /// <summary>The copy that computes: same spec, in <see cref="DType"/>.</summary>
    public ReasonerModule Working { get; }

    public ScalarType DType { get; }

    /// <summary>Copies every master weight (frozen ones included) and embeds_std into the working copy: after loading weights.</summary>
    public void SyncAll() => Sync(all: true);

    /// <summary>Copies the trainable master weights into the working copy: after each optimizer step.</summary>
    public void SyncTrainable() => Sync(all: false);

    void Sync(bool all)
    {
        using var noGrad = torch.no_grad();
        foreach (var (master, working) in _pairs)
        {
            if (all || master.requires_grad) working.copy_(master);
            working.requires_grad = master.requires_grad;
        }
        Working.EmbedsStd = _master.EmbedsStd;
        Working.Base = _master.Base;
    }

    /// <summary>Moves the working copy's gradients to the masters (as fp32) and clears the working ones.</summary>
    public void CopyGradients()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var (master, working) in _pairs)
        {
            if (!master.requires_grad) continue;
            var grad = working.grad;
            master.grad = grad is null ? null : grad.to(master.dtype);
        }
        Working.zero_grad();
    }

    public void Dispose() => Working.Dispose();
}
