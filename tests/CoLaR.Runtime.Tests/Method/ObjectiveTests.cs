using CoLaR.Modules;
using CoLaR.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CoLaR.Runtime.Tests.Method;

/// <summary>Losses against hand-computed values on tiny tensors, and the objectives against a direct computation.</summary>
public class ObjectiveTests
{
    static ObjectiveTests() => _ = MethodFixture.Layout;

    [Fact]
    public void SqrtMeanMerge_DividesTheSumOfRealTokensBySqrtCount()
    {
        using var model = new MethodCoLaR();
        var groups = torch.tensor(new float[] { 1, 2, 3, 4, 10, 20, /* second group */ 5, 5, 7, 7, 0, 0 }, new long[] { 2, 3, 2 });
        var real = torch.tensor(new[] { true, true, false, true, false, false }, new long[] { 2, 3 });
        var merged = model.MergeGroups(groups, real);
        // (1,2)+(3,4) over √2; (5,5) over √1 (the masked tokens count for nothing).
        var expected = torch.tensor(new float[] { 4 / MathF.Sqrt(2), 6 / MathF.Sqrt(2), 5, 5 }, new long[] { 2, 2 });
        Assert.True(merged.allclose(expected, 1e-6, 1e-6), string.Join(",", merged.data<float>().ToArray()));
    }

    [Fact]
    public void LatentLogProb_IsTheNormalDensityAveragedOverDimensions()
    {
        var mean = torch.tensor(new float[] { 0, 1 }, new long[] { 1, 2 });
        var logStd = torch.tensor(new float[] { 0, MathF.Log(2) }, new long[] { 1, 2 });
        var x = torch.tensor(new float[] { 1, 1 }, new long[] { 1, 2 });
        var lp = new LatentDistribution(mean, logStd).LogProb(x).item<float>();
        double d0 = -0.5 * 1 - 0 - 0.5 * Math.Log(2 * Math.PI), d1 = -0 - Math.Log(2) - 0.5 * Math.Log(2 * Math.PI);
        Assert.Equal((d0 + d1) / 2, lp, 5);
        double entropy = new LatentDistribution(mean, logStd).Entropy().item<float>();
        Assert.Equal((0.5 * (1 + Math.Log(2 * Math.PI)) * 2 + Math.Log(2)) / 2, entropy, 5);
    }

    [Fact]
    public void MaskedMean_IgnoresMaskedValues_AndIsZeroWhenNothingIsValid()
    {
        var v = torch.tensor(new float[] { 1, 2, 3, 100 });
        Assert.Equal(2f, Batching.MaskedMean(v, torch.tensor(new[] { true, true, true, false })).item<float>(), 6);
        Assert.Equal(0f, Batching.MaskedMean(v, torch.zeros(4, ScalarType.Bool)).item<float>());
    }

    [Fact]
    public void NextTokenCrossEntropy_ScoresPositionPAgainstLabelPPlusOne()
    {
        using var model = new MethodCoT();
        torch.manual_seed(3);
        var hidden = torch.randn(1, 3, 32);
        var labels = torch.tensor(new long[] { -100, 7, -100 }, new long[] { 1, 3 });
        var (loss, count) = Batching.NextTokenCrossEntropy(model.Backbone, hidden, labels);
        var logits = model.Backbone.Logits(hidden[0, 0]);
        var expected = -F.log_softmax(logits, 0)[7].item<float>();
        Assert.Equal(1, count);
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void CompressedLatent_AtC1_HasTheCrossEntropyOfTheChainOfThoughtSequence()
    {
        // At c = 1 every group is one token, so the CE must equal a direct computation over
        // question + speed + ### + steps + answer with labels after the question.
        torch.manual_seed(11);
        using var model = new MethodCoLaR();
        var samples = MethodFixture.Problems(3);
        var loss = model.ComputeSftLoss(new SftBatch(samples), MethodFixture.Context(1));

        var layout = MethodFixture.Layout;
        double total = 0; int count = 0;
        foreach (var s in samples)
        {
            var q = s.Question.Concat(layout.Speed(1)).ToArray();
            var ids = q.Append(layout.ThinkId).Concat(s.StepTokens(layout.StepSeparator)).Concat(s.Answer).ToArray();
            var input = torch.tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length });
            var mask = torch.ones(1, ids.Length, dtype: ScalarType.Int64);
            var hidden = model.Backbone.Forward(model.Backbone.Embed(input), mask, AttentionOps.PositionIds(mask));
            var logp = F.log_softmax(model.Backbone.Logits(hidden[0]), -1);
            for (int p = q.Length - 1; p < ids.Length - 1; p++) { total -= logp[p, ids[p + 1]].item<float>(); count++; }
        }
        Assert.Equal(total / count, loss.Terms["ce"], 4);
    }

    [Fact]
    public void CompressedLatent_WithAPerfectHead_HasZeroMseAndTheNllOfItsStd()
    {
        // The latent term compares the head's prediction at slot s with merged(s + 1) / embeds_std.
        // Replace the head by one that returns exactly that target: MSE must vanish.
        torch.manual_seed(5);
        using var model = new OracleHead();
        var samples = MethodFixture.Problems(4);
        var loss = model.ComputeSftLoss(new SftBatch(samples), MethodFixture.Context(2));
        Assert.True(loss.Terms["latent"] < 1e-9, $"latent loss {loss.Terms["latent"]}");
        Assert.True(model.Calls > 0);
    }

    [Fact]
    public void Objective_TotalIsTheWeightedSumOfItsTerms()
    {
        torch.manual_seed(2);
        using var model = new MethodCoLaRNll();
        var loss = model.ComputeSftLoss(new SftBatch(MethodFixture.Problems(4)), MethodFixture.Context(3));
        Assert.Equal(loss.Terms["ce"] + loss.Terms["latent"], loss.Terms["loss"], 4);
        Assert.Equal(loss.Terms["loss"], loss.Total.item<float>(), 4);
    }
}

/// <summary>A CoLaR whose latent head is an oracle: it returns the true next compressed embedding / embeds_std.</summary>
public sealed class OracleHead : ReasonerModule
{
    readonly MethodCoLaR _inner = new();
    Tensor? _merged;
    public int Calls;

    public OracleHead() : base(nameof(OracleHead)) { }
    public override ReasonerSpec Specification => MethodCoLaR.Spec;
    public override Backbone Backbone => _inner.Backbone;

    public override Tensor MergeGroups(Tensor groups, Tensor realMask)
    {
        var merged = _inner.MergeGroups(groups, realMask);
        _merged = merged; // [B·G, H]; the objective reshapes to [B, G, H]
        return merged;
    }

    public override LatentDistribution PredictLatent(Tensor hidden)
    {
        Calls++;
        long b = hidden.shape[0], g = hidden.shape[1] + 1;
        var target = _merged!.view(b, g, -1).narrow(1, 1, g - 1).detach() / EmbedsStd;
        return new LatentDistribution(target, null);
    }

    public override SftLoss ComputeSftLoss(SftBatch batch, SftContext context) => Objectives.CompressedLatent(this, batch, context);
    public override Inference.GenerationResult Generate(Inference.GenerationRequest request) => throw new NotSupportedException();
}
