using CoLaR.Data;
using CoLaR.Models.Workflows;
using CoLaR.Modules;
using CoLaR.Text;

namespace CoLaR.Models.Tests;

/// <summary>`colar reproduce` evaluates every method with caps long enough for the benchmark's own reasoning and answers.</summary>
public class InferenceCapsTests
{
    static readonly PromptLayout Layout = new(EmbeddedTokenizer.Instance);

    [Fact]
    public void Multiplication_RaisesBothCaps_AboveItsLongestChainAndAnswer()
    {
        var spec = ModelRegistry.Get("CoT").Spec;
        var real = DatasetReader.Read(Path.Combine(Colar.RepositoryRoot, "..", "shared", "data", "mult-4x4", "valid.txt")).Take(200).ToList();
        var (steps, answer) = Reproduce.InferenceCaps(spec, Layout, SyntheticData.Multiplication(500, 4, 4, seed: 1));
        // The held-out set's own lengths must fit: the longest CoT chain, and "Answer:" + the digits + EOS.
        int longestChain = real.Max(s => Layout.Encode(s).StepTokens(Layout.StepSeparator).Length);
        int longestAnswer = real.Max(s => Layout.Encode(s).Answer.Length - 1); // the ### before it is fed, not decoded
        Assert.True(longestChain > spec.MaxLatentSteps && longestAnswer > spec.MaxAnswerTokens, $"{longestChain} {longestAnswer}: the defaults would fit");
        Assert.NotNull(steps);
        Assert.NotNull(answer);
        Assert.True(steps >= longestChain, $"{steps} < {longestChain}");
        Assert.True(answer >= longestAnswer, $"{answer} < {longestAnswer}");
    }

    [Fact]
    public void WordProblems_KeepTheSpecsOwnCaps()
    {
        var spec = ModelRegistry.Get("CoLaR").Spec;
        Assert.Equal((null, null), Reproduce.InferenceCaps(spec, Layout, SyntheticData.WordProblems(500, DemoProfile.Problems3, seed: 1)));
    }
}
