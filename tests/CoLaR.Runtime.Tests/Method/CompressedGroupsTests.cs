using CoLaR.Training;

namespace CoLaR.Runtime.Tests.Method;

/// <summary>Grouping and labels at compression c, against hand-worked layouts (think = 2, pad = 0).</summary>
public class CompressedGroupsTests
{
    const int Think = 2, Pad = 0;
    static readonly int[] A = { 10, 11, 12 }, B = { 20 };

    static CompressedGroups Build(int c, int seed = 0, params int[][] samples) =>
        CompressedGroups.Build(samples, c, Think, Pad, new Random(seed));

    [Fact]
    public void C2_UnevenLengths_LeftPadsSamplesAndRightPadsTheLastGroup()
    {
        var g = Build(2, 0, A, B);
        Assert.Equal(3, g.Slots);
        Assert.Equal(new[] { 3, 2 }, g.Counts);
        Assert.Equal(new long[] { 0, 2, 10, 11, 12, 0, /* B */ 0, 0, 0, 2, 20, 0 }, g.TokenIds);
        Assert.Equal(new[] { false, true, true, true, true, false, /* B */ false, false, false, true, true, false }, g.Real);
        Assert.Equal(new[] { true, true, true, /* B */ false, true, true }, g.Valid);
        Assert.Equal(Think, g.Labels[0]);
        Assert.Contains(g.Labels[1], new long[] { 10, 11 });
        Assert.Equal(12, g.Labels[2]);
        Assert.Equal(new long[] { Batching.Ignore, Think, 20 }, g.Labels[3..]);
    }

    [Fact]
    public void C1_IsPlainChainOfThought()
    {
        var g = Build(1, 0, A, B);
        Assert.Equal(4, g.Slots);
        Assert.Equal(new long[] { 2, 10, 11, 12, /* B */ 0, 0, 2, 20 }, g.TokenIds);
        Assert.Equal(new long[] { 2, 10, 11, 12, Batching.Ignore, Batching.Ignore, 2, 20 }, g.Labels);
    }

    [Fact]
    public void C3_ExactMultiple_HasNoTrailingEmptyGroup()
    {
        // Reference quirk 1: padding by c - n % c would add a whole empty group here.
        var g = Build(3, 0, A);
        Assert.Equal(2, g.Slots);
        Assert.Equal(new long[] { 0, 0, 2, 10, 11, 12 }, g.TokenIds);
        Assert.All(g.Valid, Assert.True);
    }

    [Theory]
    [InlineData(1, 6)]
    [InlineData(2, 4)]
    [InlineData(3, 3)]
    [InlineData(4, 3)]
    [InlineData(5, 2)]
    public void GroupCount_IsThinkPlusCeilOfTokensOverC(int c, int expected)
    {
        int[] five = { 1, 3, 4, 5, 6 };
        Assert.Equal(expected, CompressedGroups.GroupCount(five.Length, c));
        var g = Build(c, 0, five);
        Assert.Equal(expected, g.Slots);
        // The first group is ### alone, in the group's last place (reference quirk 2).
        Assert.Equal(Think, g.TokenIds[c - 1]);
        Assert.Equal(1, g.Real.Take(c).Count(r => r));
        // Every step token appears exactly once, in order.
        var real = g.TokenIds.Where((_, i) => g.Real[i]).Skip(1).Select(t => (int)t).ToArray();
        Assert.Equal(five, real);
    }

    [Fact]
    public void Labels_AreDrawnFromTheWholeGroup_NotAlwaysTheFirstToken()
    {
        var seen = new HashSet<long>();
        for (int seed = 0; seed < 40; seed++) seen.Add(Build(3, seed, A).Labels[1]);
        Assert.Equal(new long[] { 10, 11, 12 }, seen.Order());
    }

    [Fact]
    public void NoSteps_GivesOnlyTheThinkGroup()
    {
        var g = Build(4, 0, Array.Empty<int>(), A);
        Assert.Equal(new[] { 1, 2 }, g.Counts);
        Assert.Equal(new[] { false, true, true, true }, g.Valid);
    }
}

public class PrefixOrderTests
{
    [Fact]
    public void QuestionEndsRightBeforeItsFirstGroup_AndGroupSlotsStayInPlace()
    {
        // Row 0: question 2 of width 3, groups 1 of width 2; row 1: full widths. Answer width 1.
        var order = CoLaR.Training.Objectives.PrefixOrder(new[] { 2, 3 }, new[] { 1, 2 }, q: 3, g: 2, a: 1, TorchSharp.torch.CPU);
        // Source positions: q0 q1 q2 | g0 g1 | a0  →  row 0: [q-pad, g-pad, q1, q2, g1, a0].
        Assert.Equal(new long[] { 0, 3, 1, 2, 4, 5 }, order[0].data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, order[1].data<long>().ToArray());
    }
}
