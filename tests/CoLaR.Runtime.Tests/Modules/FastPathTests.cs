using CoLaR.Modules;
using CoLaR.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Modules;

/// <summary>
/// The runtime's fast paths (docs/performance.md) compute exactly what the plain formulas do: the
/// preallocated KV cache, RoPE with the sign folded into the sine, the one-query mask.
/// </summary>
public sealed class FastPathTests
{
    public FastPathTests() => TorchNative.EnsureLoaded();

    static (Tensor Keys, Tensor Values) Step(long b, long t, int seed)
    {
        var g = new Generator((ulong)seed);
        return (torch.randn(new long[] { b, 2, t, 8 }, generator: g), torch.randn(new long[] { b, 2, t, 8 }, generator: g));
    }

    [Fact]
    public void KvCache_WithoutGradients_GrowsPastItsCapacityAndMatchesConcatenation()
    {
        using var cache = new KvCache(1);
        var keys = new List<Tensor>();
        var values = new List<Tensor>();
        int seed = 0;
        // A 5-position prompt, then single steps well past the first buffer (64 positions).
        foreach (var t in new long[] { 5 }.Concat(Enumerable.Repeat(1L, 150)))
        {
            var (k, v) = Step(3, t, seed++);
            keys.Add(k);
            values.Add(v);
            var (allK, allV) = cache.Append(0, k, v);
            Assert.Equal(torch.cat(keys, 2).data<float>().ToArray(), allK.contiguous().data<float>().ToArray());
            Assert.Equal(torch.cat(values, 2).data<float>().ToArray(), allV.contiguous().data<float>().ToArray());
        }
        Assert.Equal(155, cache.Length);
        Assert.True(cache.Capacity(0) >= 155 && cache.Capacity(0) <= 256, $"capacity {cache.Capacity(0)}");
    }

    [Fact]
    public void KvCache_WithGradients_KeepsWhatAutogradSavedIntact()
    {
        // Training through the cache (continuous thoughts): every step's attention must still backpropagate.
        using var cache = new KvCache(1);
        var leaves = new List<Tensor>();
        Tensor loss = torch.zeros(1);
        for (int s = 0; s < 4; s++)
        {
            var k = torch.randn(1, 2, 1, 8).requires_grad_(true);
            leaves.Add(k);
            var (allK, allV) = cache.Append(0, k * 2, k * 3);
            loss = loss + (allK * allV).sum();   // uses the cache as it was at this step
        }
        loss.backward();
        // d/dk_i of Σ_s Σ_{j≤s} 6·k_j² = 12·k_i·(number of steps that saw k_i)
        for (int i = 0; i < 4; i++)
        {
            var expected = leaves[i].detach() * 12 * (4 - i);
            Assert.True(torch.allclose(leaves[i].grad!, expected, rtol: 1e-5, atol: 1e-6), $"gradient of step {i}");
        }
    }

    [Fact]
    public void KvCache_SwitchesFromGradientsToInference()
    {
        using var cache = new KvCache(1);
        var a = torch.randn(1, 2, 3, 8).requires_grad_(true);
        cache.Append(0, a, a);
        var b = torch.randn(1, 2, 1, 8);
        Tensor allK;
        using (torch.no_grad()) (allK, _) = cache.Append(0, b, b);
        Assert.Equal(torch.cat(new[] { a.detach(), b }, 2).data<float>().ToArray(), allK.contiguous().data<float>().ToArray());
        Assert.False(allK.requires_grad);
    }

    [Fact]
    public void Rope_MatchesRotateHalfFormula()
    {
        var rope = new Rope(16, 10_000);
        var positions = torch.tensor(new long[] { 0, 1, 2, 7, 3, 4, 5, 100 }, new long[] { 2, 4 });
        var (cos, signedSin) = rope.CosSin(positions, ScalarType.Float32);
        var x = torch.randn(2, 3, 4, 16);
        var inv = torch.tensor(Rope.InverseFrequencies(16, 10_000, null).Select(f => (float)f).ToArray());
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * inv;
        var angles = torch.cat(new[] { freqs, freqs }, -1).unsqueeze(1);
        var rotated = torch.cat(new[] { -x.narrow(-1, 8, 8), x.narrow(-1, 0, 8) }, -1);
        var expected = x * angles.cos() + rotated * angles.sin();
        var actual = Rope.Apply(x, cos, signedSin);
        Assert.True(torch.allclose(actual, expected, rtol: 1e-6, atol: 1e-6), $"max |Δ| {(actual - expected).abs().max().ToDouble()}");
    }

    [Fact]
    public void CausalPaddingMask_OneQuery_EqualsTheGeneralMask()
    {
        // Rows: all real; padded on the left; a finished row whose newest position is masked out (it still sees itself).
        var keyMask = torch.tensor(new long[] { 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0 }, new long[] { 3, 5 });
        var fast = AttentionOps.CausalPaddingMask(keyMask, 1);
        // The general path, as for a two-query step, keeps its last row.
        var general = AttentionOps.CausalPaddingMask(keyMask, 2).narrow(2, 1, 1);
        Assert.Equal(new long[] { 3, 1, 1, 5 }, fast.shape);
        Assert.Equal(general.data<bool>().ToArray(), fast.data<bool>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0 }, keyMask.data<long>().ToArray()); // input untouched
    }
}
