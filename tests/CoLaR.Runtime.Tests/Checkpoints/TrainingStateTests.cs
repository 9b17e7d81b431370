using System.Text.Json;
using CoLaR.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static CoLaR.Runtime.Tests.Checkpoints.TestUtil;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Checkpoints;

/// <summary>Resume tests: they replay the global RNG, so they run alone.</summary>
[Collection(GlobalRngCollection.Name)]
public sealed class TrainingStateTests : IDisposable
{
    readonly TempDir _dir = new();

    public TrainingStateTests() => Torch();

    public void Dispose() => _dir.Dispose();

    static Sequential Mlp() => nn.Sequential(("fc1", nn.Linear(8, 16)), ("act", nn.Tanh()), ("fc2", nn.Linear(16, 4)));

    static optim.Optimizer AdamW(nn.Module model, bool amsgrad = false) =>
        optim.AdamW(model.parameters(), lr: 3e-2, beta1: 0.8, beta2: 0.95, eps: 1e-7, weight_decay: 0.05, amsgrad: amsgrad);

    /// <summary>One step on a fresh batch from the global generator (so the RNG state matters too), with dropout.</summary>
    static void Step(Sequential model, optim.Optimizer optimizer)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(16, 8);
        var y = torch.sin(x.narrow(1, 0, 4) * 3);
        var h = nn.functional.dropout(x, 0.1, training: true);
        var loss = nn.functional.mse_loss(model.call(h), y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }

    static Dictionary<string, byte[]> Weights(nn.Module model) => model.named_parameters().ToDictionary(p => p.name, p => Bits(p.parameter));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ResumeIsBitwiseIdenticalToAnUninterruptedRun(bool amsgrad)
    {
        const int before = 6, after = 7;

        torch.manual_seed(11);
        var straight = Mlp();
        var straightOptimizer = AdamW(straight, amsgrad);
        for (int i = 0; i < before + after; i++) Step(straight, straightOptimizer);

        torch.manual_seed(11);
        var first = Mlp();
        var firstOptimizer = AdamW(first, amsgrad);
        for (int i = 0; i < before; i++) Step(first, firstOptimizer);
        TrainingState.Save(_dir.Path, first, firstOptimizer, """{"step": 6, "epoch": 0, "seed": 11}""");

        // A new process: other seed, other initial weights, fresh optimizer, then resume.
        torch.manual_seed(999);
        var resumed = Mlp();
        var resumedOptimizer = AdamW(resumed, amsgrad);
        var info = TrainingState.TryLoad(_dir.Path, resumed, resumedOptimizer);
        Assert.NotNull(info);
        Assert.Equal(6, JsonDocument.Parse(info!.TrainerJson).RootElement.GetProperty("step").GetInt32());
        for (int i = 0; i < after; i++) Step(resumed, resumedOptimizer);

        var expected = Weights(straight);
        var actual = Weights(resumed);
        foreach (var (name, bits) in expected) Assert.True(bits.AsSpan().SequenceEqual(actual[name]), $"{name} differs after resuming");
    }

    [Fact]
    public void AFreshOptimizerWouldNotMatch()
    {
        // The resume test's sensitivity: dropping the optimizer state (keeping weights and RNG) changes the result.
        torch.manual_seed(11);
        var straight = Mlp();
        var straightOptimizer = AdamW(straight);
        for (int i = 0; i < 6; i++) Step(straight, straightOptimizer);
        TrainingState.Save(_dir.Path, straight, straightOptimizer, "{}");
        for (int i = 0; i < 3; i++) Step(straight, straightOptimizer);

        var resumed = Mlp();
        TrainingState.TryLoad(_dir.Path, resumed, AdamW(resumed));
        var fresh = AdamW(resumed); // state discarded
        for (int i = 0; i < 3; i++) Step(resumed, fresh);
        var a = Weights(straight);
        Assert.Contains(Weights(resumed), kv => !kv.Value.AsSpan().SequenceEqual(a[kv.Key]));
    }

    [Fact]
    public void RestoresHyperparametersAndStepCounts()
    {
        torch.manual_seed(3);
        var model = Mlp();
        var optimizer = AdamW(model);
        for (int i = 0; i < 4; i++) Step(model, optimizer);
        var group = optimizer.ParamGroups.First();
        group.LearningRate = 0.0125; // a scheduler moved it
        TrainingState.Save(_dir.Path, model, optimizer, "{}");

        var other = Mlp();
        var otherOptimizer = AdamW(other);
        TrainingState.TryLoad(_dir.Path, other, otherOptimizer);
        Assert.Equal(0.0125, otherOptimizer.ParamGroups.First().LearningRate);
        var states = ((OptimizerHelper)otherOptimizer).state_dict().State.Cast<TorchSharp.Modules.AdamW.State>().ToList();
        Assert.All(states, s => Assert.Equal(4, s.step));
    }

    [Fact]
    public void RngStateIsRestored()
    {
        torch.manual_seed(5);
        var model = Mlp();
        var optimizer = AdamW(model);
        TrainingState.Save(_dir.Path, model, optimizer, "{}");
        var expected = torch.rand(8);
        torch.rand(100); // move on
        TrainingState.TryLoad(_dir.Path, model, optimizer);
        AssertSameBits(expected, torch.rand(8));
        torch.rand(3);
        TrainingState.TryLoad(_dir.Path, model, optimizer, restoreRng: false);
        Assert.False(Bits(expected).AsSpan().SequenceEqual(Bits(torch.rand(8))));
    }

    [Fact]
    public void EmptyDirectoryMeansAFreshRun()
    {
        var model = Mlp();
        Assert.Null(TrainingState.TryLoad(_dir.File("never-written"), model, AdamW(model)));
    }

    [Fact]
    public void InvalidTrainerJsonIsRefusedAtSave()
    {
        var model = Mlp();
        Assert.Throws<ArgumentException>(() => TrainingState.Save(_dir.Path, model, AdamW(model), "{step: 1"));
        Assert.False(File.Exists(TrainingState.PathIn(_dir.Path)));
    }

    [Fact]
    public void OtherOptimizerTypeIsRefusedAndChangesNothing()
    {
        var model = Mlp();
        TrainingState.Save(_dir.Path, model, AdamW(model), "{}");
        var other = Mlp();
        var before = Weights(other);
        var e = Refused(TrainingState.PathIn(_dir.Path), () => TrainingState.TryLoad(_dir.Path, other, optim.Adam(other.parameters())));
        Assert.Equal(CheckpointErrorKind.Mismatch, e.Kind);
        Assert.Contains("was saved with optimizer 'AdamW' but the trainer uses 'Adam'", e.Message);
        var after = Weights(other);
        Assert.True(before.All(kv => kv.Value.AsSpan().SequenceEqual(after[kv.Key])), "a refused resume changed the model");
    }

    [Fact]
    public void AmsgradMismatchIsExplained()
    {
        var model = Mlp();
        TrainingState.Save(_dir.Path, model, AdamW(model, amsgrad: false), "{}");
        var e = Refused(TrainingState.PathIn(_dir.Path), () => TrainingState.TryLoad(_dir.Path, model, AdamW(model, amsgrad: true)));
        Assert.Contains("has no max_exp_avg_sq for parameter 'fc1.weight'", e.Message);
    }

    [Fact]
    public void DifferentParameterSetIsRefused()
    {
        var model = Mlp();
        TrainingState.Save(_dir.Path, model, AdamW(model), "{}");
        var e = Refused(TrainingState.PathIn(_dir.Path), () =>
            TrainingState.TryLoad(_dir.Path, model, optim.AdamW(model.parameters().Take(2))));
        Assert.Contains("optimizer group 0 held 4 parameters when saved but holds 2 now; entry 2 was 'fc2.weight' and is absent", e.Message);
    }

    [Fact]
    public void CorruptStateNamesThePreviousOne()
    {
        var model = Mlp();
        var optimizer = AdamW(model);
        TrainingState.Save(_dir.Path, model, optimizer, """{"step": 1}""");
        Step(model, optimizer);
        TrainingState.Save(_dir.Path, model, optimizer, """{"step": 2}""");
        var path = TrainingState.PathIn(_dir.Path);
        var bytes = File.ReadAllBytes(path);
        bytes[^100] ^= 1;
        File.WriteAllBytes(path, bytes);

        var e = Refused(path, () => TrainingState.TryLoad(_dir.Path, model, optimizer));
        Assert.Equal(CheckpointErrorKind.Checksum, e.Kind);
        Assert.EndsWith($"the previous checkpoint is {path}.prev", e.Message);

        File.Move(path + ".prev", path, overwrite: true); // what the message suggests
        Assert.Equal(1, JsonDocument.Parse(TrainingState.TryLoad(_dir.Path, model, optimizer)!.TrainerJson).RootElement.GetProperty("step").GetInt32());
    }

    [Fact]
    public void ReasonerResumesWithSpecCheckAndNamedOptimizerState()
    {
        torch.manual_seed(21);
        var model = new TestReasoner { EmbedsStd = 0.02 };
        var optimizer = optim.AdamW(model.parameters(), lr: 1e-3);
        using (var scope = torch.NewDisposeScope())
        {
            var ids = torch.randint(0, 64, new long[] { 2, 5 });
            var hidden = model.Backbone.Forward(model.Backbone.Embed(ids), torch.ones(2, 5, dtype: ScalarType.Int64), torch.arange(5).unsqueeze(0).expand(2, 5));
            var loss = model.Backbone.Logits(hidden).square().mean() + model.PredictLatent(hidden).Mean.square().mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        TrainingState.Save(_dir.Path, model, optimizer, "{}");

        var resumed = new TestReasoner();
        var resumedOptimizer = optim.AdamW(resumed.parameters(), lr: 1e-3);
        TrainingState.TryLoad(_dir.Path, resumed, resumedOptimizer);
        Assert.Equal(0.02, resumed.EmbedsStd);
        var expected = Weights(model);
        foreach (var (name, bits) in Weights(resumed)) Assert.True(bits.AsSpan().SequenceEqual(expected[name]), name);

        using var file = Checkpoint.Load(TrainingState.PathIn(_dir.Path));
        // Optimizer state is keyed by module parameter names (found by handle), never by position.
        Assert.Contains("optimizer/backbone.model.embed_tokens.weight/exp_avg", file.Names);
        Assert.DoesNotContain(file.Names, n => n.Contains('#'));
        Assert.Contains("model/model.layers.0.self_attn.q_proj.weight", file.Names);

        var wide = new TestReasonerWideHead();
        var e = Refused(TrainingState.PathIn(_dir.Path), () => TrainingState.TryLoad(_dir.Path, wide, optim.AdamW(wide.parameters())));
        Assert.Contains("was saved from spec 'TestReasoner'", e.Message);
    }
}
