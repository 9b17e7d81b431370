using CoLaR.Modules;
using CoLaR.Training;
using CoLaR.Training.Grpo;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Method;

/// <summary>Stage 2: group advantages, the clipped loss, scoring, and one update.</summary>
public class GrpoTests
{
    static GrpoTests() => _ = MethodFixture.Layout;

    [Fact]
    public void GroupAdvantages_AreNormalisedWithinEachGroup()
    {
        // Group 1: rewards 1,0,0,1 → mean 0.5, std 0.5 → ±0.5 / (0.5 + eps). Group 2: all equal → 0.
        var a = GrpoMath.GroupAdvantages(new[] { 1.0, 0, 0, 1, 0.25, 0.25, 0.25, 0.25 }, groupSize: 4, eps: 1e-4);
        double expected = 0.5 / (0.5 + 1e-4);
        Assert.Equal(new[] { expected, -expected, -expected, expected, 0, 0, 0, 0 }, a, new ToleranceComparer(1e-12));
    }

    [Fact]
    public void GroupAdvantages_WithAnUnevenGroup_UsesThePopulationStd()
    {
        // rewards 1, 0, 0: mean 1/3, population std √(2/9).
        var a = GrpoMath.GroupAdvantages(new[] { 1.0, 0, 0 }, 3, eps: 0);
        double std = Math.Sqrt(2.0 / 9);
        Assert.Equal(new[] { (2.0 / 3) / std, (-1.0 / 3) / std, (-1.0 / 3) / std }, a, new ToleranceComparer(1e-12));
        Assert.Throws<ArgumentException>(() => GrpoMath.GroupAdvantages(new[] { 1.0, 0 }, 3));
    }

    [Fact]
    public void Reward_IsCorrectness_DividedByLengthWithThePenalty()
    {
        Assert.Equal(1.0, GrpoMath.Reward(true, 8, lengthPenalty: false));
        Assert.Equal(0.125, GrpoMath.Reward(true, 8, lengthPenalty: true));
        Assert.Equal(1.0, GrpoMath.Reward(true, 0, lengthPenalty: true));
        Assert.Equal(0.0, GrpoMath.Reward(false, 3, lengthPenalty: true));
    }

    [Fact]
    public void ClippedLoss_MatchesHandComputedValues()
    {
        // Ratios 1.5 and 0.5 (ε = 0.2). A = +1: min(1.5, 1.2) = 1.2, min(0.5, 0.8) = 0.5 → loss -(1.2 + 0.5) / 2.
        // A = -1: min(-1.5, -1.2) = -1.5, min(-0.5, -0.8) = -0.8 → loss (1.5 + 0.8) / 2.
        var newLp = torch.tensor(new[] { MathF.Log(1.5f), MathF.Log(0.5f), MathF.Log(1.5f), MathF.Log(0.5f) }, new long[] { 2, 2 });
        var oldLp = torch.zeros(2, 2);
        var mask = torch.ones(2, 2, dtype: ScalarType.Bool);
        var plus = GrpoMath.ClippedLoss(newLp.narrow(0, 0, 1), oldLp.narrow(0, 0, 1), torch.tensor(new[] { 1f }), mask.narrow(0, 0, 1), 0.2, perToken: true);
        var minus = GrpoMath.ClippedLoss(newLp.narrow(0, 1, 1), oldLp.narrow(0, 1, 1), torch.tensor(new[] { -1f }), mask.narrow(0, 1, 1), 0.2, perToken: true);
        Assert.Equal(-0.85, plus.item<float>(), 5);
        Assert.Equal(1.15, minus.item<float>(), 5);

        // Per token vs per rollout: rollout 0 has 2 tokens, rollout 1 one (masked second token), both A = +1, ratio 1.
        var uneven = torch.tensor(new[] { true, true, true, false }, new long[] { 2, 2 });
        var ones = torch.ones(2);
        Assert.Equal(-1.0, GrpoMath.ClippedLoss(oldLp, oldLp, ones, uneven, 0.2, perToken: true).item<float>(), 5);   // -(1+1+1)/3
        Assert.Equal(-1.5, GrpoMath.ClippedLoss(oldLp, oldLp, ones, uneven, 0.2, perToken: false).item<float>(), 5);  // -((1+1) + 1)/2
    }

    [Fact]
    public void ClippedLoss_StaysFinite_WhenAMaskedEntryOverflows_OrALogRatioExplodes()
    {
        // A padded entry whose log-ratio is 1000 (exp overflows) must not poison the loss: the loss equals
        // the one without it. An unmasked log-ratio of ±1000 is clamped to ±20: finite loss and gradient.
        var oldLp = torch.zeros(1, 3);
        var mask = torch.tensor(new[] { true, true, false }, new long[] { 1, 3 });
        var newLp = torch.tensor(new[] { 0f, 0f, 1000f }, new long[] { 1, 3 });
        var loss = GrpoMath.ClippedLoss(newLp, oldLp, torch.tensor(new[] { -1f }), mask, 0.2, perToken: true);
        Assert.Equal(1.0, loss.item<float>(), 5);

        var exploding = torch.tensor(new[] { 1000f, -1000f, 0f }, new long[] { 1, 3 }).requires_grad_();
        foreach (var advantage in new[] { 1f, -1f })
        {
            var l = GrpoMath.ClippedLoss(exploding, oldLp, torch.tensor(new[] { advantage }), mask, 0.2, perToken: true);
            l.backward();
            Assert.True(double.IsFinite(l.item<float>()), $"A = {advantage}: loss {l.item<float>()}");
            Assert.True(exploding.grad!.isfinite().all().item<bool>());
            exploding.grad.zero_();
        }
    }

    [Fact]
    public void LatentHead_LogStd_IsClampedToItsFloor()
    {
        // An MSE-trained head drives log-std toward -∞; the generated head clamps it so log-probs stay stable.
        using var model = new MethodCoLaRNll();
        using (torch.no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("log_std.bias")) p.fill_(-50);
                else if (name.EndsWith("log_std.weight")) p.zero_();
        var distribution = model.PredictLatent(torch.randn(3, model.Specification.Backbone.Hidden));
        Assert.Equal(LatentDistribution.MinLogStd, distribution.LogStd!.min().item<float>(), 5);
        Assert.Equal(LatentDistribution.MinLogStd, distribution.LogStd.max().item<float>(), 5);
    }

    [Fact]
    public void StdFloor_RaisesOnlyTheStdsBelowIt()
    {
        var d = new LatentDistribution(torch.zeros(1, 3), torch.tensor(new[] { -7f, 0f, 1f }, new long[] { 1, 3 }));
        Assert.Equal(new[] { MathF.Log(0.5f), 0f, 1f }, d.WithStdFloor(0.5).LogStd!.data<float>().ToArray());
        Assert.Same(d.LogStd, d.WithStdFloor(0).LogStd);
        Assert.True(new LatentDistribution(torch.zeros(1, 3), null).WithStdFloor(0.5).IsDeterministic);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(2.0)]  // an exploration floor above the untrained head's std: sampling and scoring must both use it
    public void Score_WithUnchangedWeights_ReproducesTheSampledLogProbs_AndRatioOne(double stdFloor)
    {
        torch.manual_seed(4);
        using var model = new MethodCoLaRNll();
        model.EnsureEmbedsStd();
        model.eval();
        using var generator = new Generator(17);
        var questions = MethodFixture.Problems(3);
        var rollouts = Rollouts.Sample(model, MethodFixture.Layout, questions, groupSize: 4, compression: 2,
            latentTemperature: 1.0, tokenTemperature: 1.0, lengthPenalty: true, generator, torch.CPU, stdFloor);
        Assert.Equal(12, rollouts.Count);
        Assert.Contains(rollouts, r => r.Steps > 0);

        using var noGrad = torch.no_grad();
        var (first, mask, _) = Rollouts.Score(model, MethodFixture.Layout, rollouts, torch.CPU, stdFloor);
        var (second, _, _) = Rollouts.Score(model, MethodFixture.Layout, rollouts, torch.CPU, stdFloor);
        // Same weights: the ratio exp(new - old) is exactly one.
        Assert.True((second - first).exp().eq(1).all().item<bool>());
        // Teacher-forced scoring sees exactly what incremental sampling produced.
        for (int i = 0; i < rollouts.Count; i++)
        {
            var scored = first[i].masked_select(mask[i].to(ScalarType.Bool)).data<float>().ToArray();
            Assert.Equal(rollouts[i].SampledLogProbs.Length, scored.Length);
            for (int k = 0; k < scored.Length; k++)
                Assert.True(Math.Abs(scored[k] - rollouts[i].SampledLogProbs[k]) < 2e-3,
                    $"rollout {i} item {k}: scored {scored[k]}, sampled {rollouts[i].SampledLogProbs[k]}");
        }
        foreach (var r in rollouts) r.Latents.Dispose();
    }

    [Fact]
    public void OneIteration_ChangesTheTrainableParameters_AndMemoryStaysFlat()
    {
        torch.manual_seed(6);
        using var model = new MethodCoLaRNll();
        model.EnsureEmbedsStd();
        var options = new GrpoOptions { Questions = 4, GroupSize = 4, MiniBatch = 8, LearningRate = 1e-3, EntropyWeight = 0.01, Steps = 6, Seed = 3 };
        var trainer = new GrpoTrainer(model, MethodFixture.Problems(16), MethodFixture.Layout, options, torch.CPU);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var report = trainer.Iterate(0);
        Assert.InRange(report.EarlyStopProbability, double.Epsilon, 1.0); // an untrained head stops at random
        var changed = model.parameters().Zip(before).Count(pair => !pair.First.detach().equal(pair.Second).all().item<bool>());
        Assert.True(changed > 0, "no parameter changed");
        foreach (var t in before) t.Dispose();

        trainer.Iterate(1);
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int step = 2; step < 6; step++) trainer.Iterate(step);
        long growth = DisposeScopeManager.Statistics.ThreadTotalLiveCount - live;
        Assert.True(growth <= 0, $"live tensors grew by {growth} over 4 iterations");
    }

    [Fact]
    public void WithoutGradientClipping_TheGradientNormIsStillMeasured()
    {
        // gradient_clip=0 turns clipping off, not the norm: it is logged, and a non-finite one stops the run.
        torch.manual_seed(6);
        using var model = new MethodCoLaRNll();
        model.EnsureEmbedsStd();
        var options = new GrpoOptions { Questions = 4, GroupSize = 4, MiniBatch = 8, LearningRate = 1e-3, EntropyWeight = 0.01, GradientClip = 0, Steps = 1, Seed = 3 };
        var report = new GrpoTrainer(model, MethodFixture.Problems(16), MethodFixture.Layout, options, torch.CPU).Iterate(0);
        Assert.True(double.IsFinite(report.GradientNorm) && report.GradientNorm > 0, $"gradient norm {report.GradientNorm}");
    }

    /// <summary>A freshly initialised CoLaR-NLL (torch seeded with <paramref name="seed"/>) and 2 questions × 4 rollouts at c = 2.</summary>
    static (MethodCoLaRNll Model, List<Rollout> Rollouts) TwoGroupsOfRollouts(int seed, int generatorSeed)
    {
        torch.manual_seed(seed);
        var model = new MethodCoLaRNll();
        model.EnsureEmbedsStd();
        using var generator = new Generator((ulong)generatorSeed);
        var rollouts = Rollouts.Sample(model, MethodFixture.Layout, MethodFixture.Problems(2), groupSize: 4, compression: 2,
            latentTemperature: 1.0, tokenTemperature: 1.0, lengthPenalty: true, generator, torch.CPU);
        return (model, rollouts);
    }

    [Fact]
    public void WithoutLatentLogProbs_TheLatentHeadGetsNoGradient_AndTheRestDoes()
    {
        // The latents are inputs to the scored sequence; only their log-probs reach the head. With their
        // columns masked out (latent_log_probs=false), the head's gradient is zero; the tokens still train.
        var (model, rollouts) = TwoGroupsOfRollouts(seed: 6, generatorSeed: 5);
        using var _ = model;
        Assert.Contains(rollouts, r => r.Steps > 0);
        var advantages = torch.tensor(Enumerable.Range(0, rollouts.Count).Select(i => i % 2 == 0 ? 1f : -1f).ToArray());
        var (logProbs, mask, _) = Rollouts.Score(model, MethodFixture.Layout, rollouts, torch.CPU);
        var loss = GrpoMath.ClippedLoss(logProbs, logProbs.detach(), advantages, GrpoTrainer.ExcludeLatents(mask, rollouts), 0.2, perToken: true);
        loss.backward();
        var head = model.named_parameters().Where(p => p.name.StartsWith("latent_head")).ToList();
        Assert.NotEmpty(head);
        Assert.All(head, p => Assert.True(p.parameter.grad is null || p.parameter.grad.abs().max().item<float>() == 0, p.name));
        Assert.Contains(model.named_parameters(), p => !p.name.StartsWith("latent_head") && p.parameter.grad is { } g && g.abs().max().item<float>() > 0);
        foreach (var r in rollouts) r.Latents.Dispose();
    }

    [Fact]
    public void WithoutGoOnScores_TheOtherBlocksAreUnchanged_AndTheGoOnBlockIsZero()
    {
        // credit_continue=false skips the LM head at the latent positions; nothing else may move.
        var (model, rollouts) = TwoGroupsOfRollouts(seed: 6, generatorSeed: 5);
        using var _ = model;
        using var noGrad = torch.no_grad();
        int latents = rollouts.Max(r => r.Steps);
        Assert.True(latents > 0);
        var (full, fullMask, fullEntropy) = Rollouts.Score(model, MethodFixture.Layout, rollouts, torch.CPU);
        var (lean, leanMask, leanEntropy) = Rollouts.Score(model, MethodFixture.Layout, rollouts, torch.CPU, scoreContinues: false);
        Assert.True((fullMask == leanMask).all().item<bool>());
        Assert.True((full.narrow(1, 0, latents) == lean.narrow(1, 0, latents)).all().item<bool>(), "latent block");
        Assert.True((full.narrow(1, 2 * latents, full.shape[1] - 2 * latents) == lean.narrow(1, 2 * latents, lean.shape[1] - 2 * latents)).all().item<bool>(), "answer block");
        Assert.Equal(0f, lean.narrow(1, latents, latents).abs().max().item<float>());
        Assert.True(full.narrow(1, latents, latents).abs().max().item<float>() > 0, "the full score has go-on log-probs to spare");
        Assert.Equal(fullEntropy.item<float>(), leanEntropy.item<float>());
        foreach (var r in rollouts) r.Latents.Dispose();
    }

    [Fact]
    public void GoOnDecisions_AreScoredAtEachLatent_AndAPenalisedLongRolloutLearnsToStopSooner()
    {
        // Score's middle block holds log(1 − p(###)) at the position that predicted each latent. With only
        // that block in the loss and a negative advantage for every rollout, one step must make each of those
        // decisions less likely, i.e. raise p(###) where the rollouts went on.
        var (model, rollouts) = TwoGroupsOfRollouts(seed: 8, generatorSeed: 9);
        using var _ = model;
        int steps = rollouts.Sum(r => r.Steps), lMax = rollouts.Max(r => r.Steps);
        Assert.True(steps > 0);

        var (logProbs, mask, _) = Rollouts.Score(model, MethodFixture.Layout, rollouts, torch.CPU);
        Assert.Equal(2 * lMax + rollouts.Max(r => r.AnswerTokens.Length), (int)logProbs.shape[1]);
        var goOn = torch.zeros_like(mask);
        goOn.narrow(1, lMax, lMax).copy_(mask.narrow(1, lMax, lMax));
        Assert.Equal(steps, goOn.sum().item<long>());
        // The first one, by hand: 1 − p(###) after the prompt alone.
        var (withLatents, row) = rollouts.Select((r, i) => (r, i)).First(x => x.r.Steps > 0);
        using (torch.no_grad())
        {
            var prompt = torch.tensor(withLatents.Prompt.Select(t => (long)t).ToArray()).unsqueeze(0);
            var hidden = model.Backbone.Forward(model.Backbone.Embed(prompt), torch.ones_like(prompt), AttentionOps.PositionIds(torch.ones_like(prompt)));
            var p = torch.nn.functional.softmax(model.Backbone.Logits(hidden[0, -1]), -1)[MethodFixture.Layout.ThinkId].item<float>();
            Assert.Equal(1 - p, MathF.Exp(logProbs[row, lMax].item<float>()), 4);
        }
        // Turning the option off removes exactly that block.
        var without = GrpoTrainer.ExcludeContinues(mask, rollouts);
        Assert.Equal(mask.sum().item<long>() - steps, without.sum().item<long>());

        var minusOne = torch.full(rollouts.Count, -1f);
        var loss = GrpoMath.ClippedLoss(logProbs, logProbs.detach(), minusOne, goOn, 0.2, perToken: true);
        var optimizer = torch.optim.SGD(model.parameters(), 1e-2);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        using var noGrad = torch.no_grad();
        var (after, _, _) = Rollouts.Score(model, MethodFixture.Layout, rollouts, torch.CPU);
        var selected = goOn.to(ScalarType.Bool);
        var change = after.masked_select(selected) - logProbs.detach().masked_select(selected);
        Assert.True(change.mean().item<float>() < 0, $"mean change of log(1 − p(###)): {change.mean().item<float>()}");
        foreach (var r in rollouts) r.Latents.Dispose();
    }
}

/// <summary>Compares doubles within an absolute tolerance.</summary>
public sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
    public int GetHashCode(double obj) => 0;
}
