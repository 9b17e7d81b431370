using CoLaR.Evaluation;
using Xunit;

namespace CoLaR.Runtime.Tests.Evaluation;

public class StatisticsTests
{
    // Reference critical values: df 1 and 2 in closed form (tan(0.475π); t² = 2·0.95²/(1-0.95²)),
    // the others from an independent numerical integration of the t density (Simpson, 20k panels)
    // and agreeing with printed t tables to their 3-4 decimals.
    [Theory]
    [InlineData(1, 12.706204736174707)]
    [InlineData(2, 4.302652729749464)]
    [InlineData(3, 3.182446305283709)]
    [InlineData(4, 2.7764451051978023)]
    [InlineData(9, 2.2621571627982133)]
    [InlineData(29, 2.045229642132803)]
    [InlineData(99, 1.9842169515862569)]
    public void Student_t_critical_values_at_95_percent(int df, double expected) =>
        Assert.Equal(expected, Statistics.StudentTCritical(df), 1e-9);

    [Fact]
    public void Student_t_other_levels_and_limits()
    {
        Assert.Equal(4.604094871350952, Statistics.StudentTCritical(4, 0.99), 1e-9);
        Assert.Equal(63.65674116287399, Statistics.StudentTCritical(1, 0.99), 1e-9);
        Assert.Equal(1.983971518523552, Statistics.StudentTCritical(100), 1e-6); // table value 1.98397
        // Large df approaches the normal quantile from above.
        double t = Statistics.StudentTCritical(100_000);
        Assert.InRange(t, 1.959963984540054, 1.96002);
        // Monotone decreasing in df.
        for (int df = 1; df < 100; df++)
            Assert.True(Statistics.StudentTCritical(df) > Statistics.StudentTCritical(df + 1), $"df {df}");
        Assert.Throws<ArgumentOutOfRangeException>(() => Statistics.StudentTCritical(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Statistics.StudentTCritical(3, 1.0));
    }

    [Fact]
    public void Student_t_cdf_is_symmetric_and_matches_the_critical_value()
    {
        Assert.Equal(0.5, Statistics.StudentTCdf(0, 5), 1e-15);
        Assert.Equal(0.975, Statistics.StudentTCdf(2.7764451051978023, 4), 1e-12);
        Assert.Equal(0.025, Statistics.StudentTCdf(-2.7764451051978023, 4), 1e-12);
        // df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/π.
        Assert.Equal(0.5 + Math.Atan(0.7) / Math.PI, Statistics.StudentTCdf(0.7, 1), 1e-13);
    }

    [Fact]
    public void Normal_quantile()
    {
        Assert.Equal(1.9599639845400536, Statistics.NormalQuantile(0.975), 1e-8);
        Assert.Equal(2.5758293035489, Statistics.NormalQuantile(0.995), 1e-8);
        Assert.Equal(-1.9599639845400536, Statistics.NormalQuantile(0.025), 1e-8);
        Assert.Equal(0, Statistics.NormalQuantile(0.5), 1e-12);
    }

    [Fact]
    public void Mean_std_and_interval_by_hand()
    {
        // Accuracies of 4 seeds: mean 0.5; deviations -0.02, 0.01, 0.03, -0.02; squares sum 0.0018;
        // s = sqrt(0.0018 / 3) = 0.0244948974; half = t(0.975, 3) * s / 2 = 3.18244631 * 0.0122474487 = 0.0389768479.
        double[] acc = [0.48, 0.51, 0.53, 0.48];
        var e = Statistics.MeanWithInterval(acc);
        Assert.Equal(0.5, e.Mean, 1e-12);
        Assert.Equal(0.024494897427831782, e.StdDev, 1e-12);
        Assert.Equal(0.0389768479, e.HalfWidth, 1e-9);
        Assert.Equal(4, e.Count);
        Assert.True(e.HasInterval);
        Assert.Equal(e.Mean - e.HalfWidth, e.Lower, 1e-15);
    }

    [Fact]
    public void Two_seeds_use_the_wide_df1_quantile()
    {
        // s = |a - b| / sqrt(2); half = 12.7062 * s / sqrt(2) = 12.7062 * |a - b| / 2.
        var e = Statistics.MeanWithInterval([10.0, 12.0]);
        Assert.Equal(11, e.Mean, 1e-12);
        Assert.Equal(12.706204736174707, e.HalfWidth, 1e-9);
    }

    [Fact]
    public void One_seed_has_no_interval()
    {
        var e = Statistics.MeanWithInterval([0.42]);
        Assert.Equal(0.42, e.Mean);
        Assert.Equal(0, e.StdDev);
        Assert.Equal(0, e.HalfWidth);
        Assert.False(e.HasInterval);
    }

    [Fact]
    public void Std_is_stable_for_large_offsets()
    {
        // Naive sum-of-squares loses all digits here.
        double[] v = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16];
        Assert.Equal(Math.Sqrt(90.0 / 3), Statistics.SampleStdDev(v), 1e-6);
    }

    [Fact]
    public void Bad_input_throws()
    {
        Assert.Throws<ArgumentException>(() => Statistics.Mean([]));
        Assert.Throws<ArgumentException>(() => Statistics.Mean([1, double.NaN]));
        Assert.Throws<ArgumentException>(() => Statistics.MeanWithInterval([double.PositiveInfinity]));
    }

    [Fact]
    public void Wilson_interval_by_hand()
    {
        var (lo, hi) = Statistics.WilsonInterval(8, 10);
        Assert.Equal(0.49016247153664183, lo, 1e-7);
        Assert.Equal(0.9433178485456247, hi, 1e-7);
        var (lo0, hi0) = Statistics.WilsonInterval(0, 10);
        Assert.Equal(0, lo0, 1e-12);
        Assert.Equal(0.27753279986288915, hi0, 1e-7);
        var (loAll, hiAll) = Statistics.WilsonInterval(10, 10);
        Assert.Equal(1, hiAll, 1e-12);
        Assert.Equal(1 - 0.27753279986288915, loAll, 1e-7);
        Assert.Equal((0.0, 1.0), Statistics.WilsonInterval(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Statistics.WilsonInterval(11, 10));
    }
}
