using System.Text;
using CoLaR.Checkpoints;
using CoLaR.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Checkpoints;

/// <summary>Tests that draw from torch's global random generator in a fixed order run alone, so no other test's draws interleave.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRngCollection
{
    public const string Name = "torch global RNG";
}

internal static class TestUtil
{
    /// <summary>Loads libtorch through the project's loader before any test touches torch.</summary>
    public static void Torch() => TorchNative.EnsureLoaded();

    /// <summary>A tensor's raw bytes (bitwise comparison, NaN-safe).</summary>
    public static byte[] Bits(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var c = t.detach().cpu().contiguous();
        return c.numel() == 0 ? Array.Empty<byte>() : c.bytes.ToArray();
    }

    public static void AssertSameBits(Tensor expected, Tensor actual, string what = "")
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(Bits(expected).AsSpan().SequenceEqual(Bits(actual)), $"tensor {what} differs");
    }

    /// <summary>A safetensors file made by hand: the length field, the header text, the data.</summary>
    public static byte[] Raw(string header, byte[] data, ulong? lengthField = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), lengthField ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    /// <summary>Runs a read that must fail with a one-line CheckpointException naming the file.</summary>
    public static CheckpointException Refused(string path, Action read)
    {
        var e = Assert.Throws<CheckpointException>(read);
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
        return e;
    }

    /// <summary>The tensors of every supported dtype, with awkward shapes (scalar, empty, 3-D, non-contiguous).</summary>
    public static List<(string Name, Tensor Tensor)> AllDtypes()
    {
        var g = new torch.Generator(1234);
        var f = torch.randn(new long[] { 3, 5 }, generator: g);
        return new()
        {
            ("f32", f.clone()),
            ("f16", f.to(ScalarType.Float16)),
            ("bf16", f.to(ScalarType.BFloat16)),
            ("f64", torch.randn(new long[] { 2, 3, 4 }, ScalarType.Float64, generator: g)),
            ("i64", torch.tensor(new long[] { long.MinValue, -1, 0, 1, long.MaxValue })),
            ("i32", torch.tensor(new int[] { int.MinValue, -7, 0, 7, int.MaxValue })),
            ("i16", torch.tensor(new short[] { short.MinValue, -3, 0, 3, short.MaxValue })),
            ("i8", torch.tensor(new sbyte[] { sbyte.MinValue, -1, 0, 1, sbyte.MaxValue })),
            ("u8", torch.tensor(new byte[] { 0, 1, 127, 128, 255 })),
            ("bool", torch.tensor(new bool[] { true, false, false, true })),
            ("scalar", torch.tensor(3.5f)),
            ("empty", torch.zeros(new long[] { 0, 3 })),
            ("transposed", f.t()),
            ("nan", torch.tensor(new float[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f })),
        };
    }
}
