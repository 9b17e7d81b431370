using CoLaR.Native;
using CoLaR.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Method;

public class TrainerTests
{
    static TrainerTests() => _ = MethodFixture.Layout;

    [Fact]
    public void LiveTensorCount_StaysFlatOverManySteps()
    {
        torch.manual_seed(1);
        using var model = new MethodCoLaR();
        var trainer = new SftTrainer(model, MethodFixture.Problems(64), MethodFixture.Layout,
            new SftOptions { Steps = 60, BatchSize = 8, WarmupSteps = 2, CheckpointEvery = int.MaxValue }, torch.CPU);
        long? after10 = null, after60 = null;
        trainer.StepCompleted = r =>
        {
            if (r.Step == 10) after10 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            if (r.Step == 60) after60 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        };
        trainer.Run();
        Assert.Equal(after10, after60);
    }

    [Fact]
    public void LearningRate_WarmsUpLinearlyThenDecaysToItsFloor()
    {
        using var model = new MethodCoT();
        var trainer = new SftTrainer(model, MethodFixture.Problems(8), MethodFixture.Layout,
            new SftOptions { Steps = 110, BatchSize = 4, LearningRate = 1e-3, WarmupSteps = 10, MinLearningRateRatio = 0.1 }, torch.CPU);
        Assert.Equal(1e-4, trainer.LearningRateAt(0), 12);
        Assert.Equal(1e-3, trainer.LearningRateAt(9), 12);
        Assert.Equal(1e-3, trainer.LearningRateAt(10), 12);
        Assert.Equal(0.55e-3, trainer.LearningRateAt(60), 12);   // half-way: (0.1 + 0.9·0.5)
        Assert.Equal(1e-4, trainer.LearningRateAt(110), 12);
    }

    [Fact]
    public void SameSeed_SameWeights_AndADifferentSeedDiffers()
    {
        // One initialisation, copied into every model: torch's global generator is shared with test classes running in
        // parallel, so two models built after manual_seed need not start equal. Training itself draws only from
        // generators seeded by (seed, step).
        Tensor[] initial;
        using (var first = new MethodCoLaR()) initial = first.parameters().Select(p => p.detach().clone()).ToArray();
        Tensor Train(int seed)
        {
            using var model = new MethodCoLaR();
            using (torch.no_grad())
                foreach (var (p, value) in model.parameters().Zip(initial)) p.copy_(value);
            new SftTrainer(model, MethodFixture.Problems(32), MethodFixture.Layout,
                new SftOptions { Steps = 5, BatchSize = 8, Seed = seed, CheckpointEvery = int.MaxValue }, torch.CPU).Run();
            return torch.cat(model.parameters().Select(p => p.detach().flatten()).ToArray()).clone();
        }
        var a = Train(1);
        Assert.True(a.equal(Train(1)).all().item<bool>());
        Assert.False(a.equal(Train(2)).all().item<bool>());
    }

    [Fact]
    public void Training_ChangesTheWeights_AndLowersTheLoss()
    {
        using var model = new MethodCoT();
        var trainer = new SftTrainer(model, MethodFixture.Problems(64), MethodFixture.Layout,
            new SftOptions { Steps = 40, BatchSize = 16, WarmupSteps = 2, CheckpointEvery = int.MaxValue }, torch.CPU);
        var before = torch.cat(model.parameters().Select(p => p.detach().flatten()).ToArray()).clone();
        var losses = new List<double>();
        trainer.StepCompleted = r => losses.Add(r.Terms["loss"]);
        trainer.Run();
        var after = torch.cat(model.parameters().Select(p => p.detach().flatten()).ToArray());
        Assert.False(before.equal(after).all().item<bool>(), "the optimizer never stepped");
        Assert.True(losses.TakeLast(5).Average() < losses[0] - 0.5, $"loss {losses[0]:F3} → {losses.TakeLast(5).Average():F3}");
    }

    [Fact]
    public void CudaOnACpuOnlyBuild_SaysWhatToInstall()
    {
        var e = Assert.Throws<NativeLoadException>(() => TorchDevices.Resolve("cuda"));
        Assert.Contains("TorchBackend=cuda", e.Message);
        Assert.Equal(torch.CPU.type, TorchDevices.Resolve("auto").type);
        Assert.Throws<ArgumentException>(() => TorchDevices.Resolve("tpu"));
    }
}
