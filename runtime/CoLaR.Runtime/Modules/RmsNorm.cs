using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoLaR.Modules;

/// <summary>RMSNorm (TorchSharp 0.107 has none): computed in fp32, scaled by a learned weight named "weight".</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>The learned scale ("….input_layernorm.weight" in checkpoints).</summary>
    public readonly Parameter weight;
    readonly double _eps;

    public RmsNorm(long size, double eps) : base(nameof(RmsNorm))
    {
        weight = new Parameter(torch.ones(size));
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        if (x.dtype == ScalarType.Float32) // the same arithmetic, without the two no-op casts (six native calls instead of eight)
            return (weight * (x * torch.rsqrt(x.pow(2).mean(new long[] { -1 }, keepdim: true) + _eps))).MoveToOuterDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * torch.rsqrt(x32.pow(2).mean(new long[] { -1 }, keepdim: true) + _eps);
        return (weight * normed.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
