using System.Diagnostics;
using CoLaR.Modules;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Training;

/// <summary>What one optimizer step did, for logs and progress.</summary>
public sealed record StepReport(int Step, int Epoch, int Stage, int Compression, double LearningRate, double GradientNorm,
    IReadOnlyDictionary<string, double> Terms, double Seconds, bool Skipped);

/// <summary>A run stopped on purpose: a non-finite loss or gradient, with where and why.</summary>
public sealed class TrainingStoppedException(string message) : Exception(message);

/// <summary>
/// Supervised fine-tuning for any declared reasoner: the spec's own objective
/// (<see cref="ReasonerModule.ComputeSftLoss"/>), AdamW, gradient clipping, warm-up + cosine schedule,
/// the curriculum stage from the epoch, and the compression factor drawn per batch for CoLaR. Each step
/// runs in its own dispose scope, so memory stays flat over thousands of steps.
/// </summary>
public sealed class SftTrainer
{
    readonly ReasonerModule _model;
    readonly IReadOnlyList<EncodedSample> _data;
    readonly PromptLayout _layout;
    readonly Device _device;
    readonly DataSchedule _schedule;
    readonly MixedPrecision? _mixed;

    public SftOptions Options { get; }

    /// <summary>The precision the forward and backward passes run in (resolved: Fp32 or Bf16).</summary>
    public Precision Precision { get; }

    /// <summary>The optimizer (exposed so checkpoints can save and restore its state).</summary>
    public optim.Optimizer Optimizer { get; private set; }

    /// <summary>Called after every step.</summary>
    public Action<StepReport>? StepCompleted { get; set; }

    /// <summary>Called every <see cref="SftOptions.CheckpointEvery"/> steps and at the end, with the number of completed steps.</summary>
    public Action<int>? CheckpointDue { get; set; }

    /// <summary>Batches skipped because of a non-finite loss or gradient (with <see cref="SftOptions.SkipNonFinite"/>); a resumed run restores the count.</summary>
    public int SkippedBatches { get; set; }

    /// <remarks>With <paramref name="precision"/> Bf16 the forward and backward passes run in a bfloat16 copy with fp32
    /// master weights (<see cref="MixedPrecision"/>); Auto means bf16 on CUDA, fp32 on CPU.</remarks>
    public SftTrainer(ReasonerModule model, IReadOnlyList<EncodedSample> data, PromptLayout layout, SftOptions options, Device device,
        Precision precision = Precision.Fp32)
    {
        _model = model;
        _data = data;
        _layout = layout;
        _device = device;
        Options = options;
        _schedule = new DataSchedule(data.Count, options.BatchSize, options.Seed);
        var (min, max) = model.Specification.CompressionRange;
        if (options.Compression is { } c && (c < min || c > max))
            throw new ArgumentException($"compression={c} is outside the range {model.Specification.Name} trains ({min}..{max})");
        Optimizer = NewOptimizer();
        Precision = Precisions.Resolve(precision, device);
        if (Precision == Precision.Bf16) _mixed = new MixedPrecision(model, device, ScalarType.BFloat16);
    }

    public int BatchesPerEpoch => _schedule.BatchesPerEpoch;

    /// <summary>The curriculum stage at a step: floor(epoch / EpochsPerStage) (0 without a curriculum).</summary>
    public int StageAt(int step)
    {
        var curriculum = _model.Specification.Curriculum;
        return curriculum is null ? 0 : Math.Min(_schedule.EpochOf(step) / curriculum.EpochsPerStage, curriculum.MaxStages);
    }

    /// <summary>Learning rate at a step: linear warm-up, then cosine decay to MinLearningRateRatio × peak.</summary>
    public double LearningRateAt(int step)
    {
        var o = Options;
        if (o.WarmupSteps > 0 && step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        double progress = o.Steps <= o.WarmupSteps ? 1 : (double)(step - o.WarmupSteps) / Math.Max(1, o.Steps - o.WarmupSteps);
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(progress, 0, 1)));
        return o.LearningRate * (o.MinLearningRateRatio + (1 - o.MinLearningRateRatio) * cosine);
    }

    /// <summary>Trains from <paramref name="startStep"/> (0, or the step a resumed run reached) to <see cref="SftOptions.Steps"/>.</summary>
    public void Run(int startStep = 0, CancellationToken cancellation = default)
    {
        _model.train();
        if (_mixed is not null)
        {
            if (_model.Specification.Method == ReasoningMethod.CompressedLatent) _model.EnsureEmbedsStd(); // from the fp32 table
            _mixed.SyncAll(); // weights loaded after construction (init, resume) reach the working copy
            _mixed.Working.train();
        }
        var parameters = _model.parameters().Where(p => p.requires_grad).ToList();
        for (int step = startStep; step < Options.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            var report = TrainStep(step, parameters);
            StepCompleted?.Invoke(report with { Seconds = clock.Elapsed.TotalSeconds });
            int done = step + 1;
            if (CheckpointDue is not null && (done % Options.CheckpointEvery == 0 || done == Options.Steps)) CheckpointDue(done);
            // Native memory is freed by dispose scopes; an occasional collection returns what glibc keeps.
            if (done % 200 == 0) GC.Collect();
        }
        Native.NativeDefaults.ReleaseRetained(); // the heap a step needed is no longer needed
    }

    StepReport TrainStep(int step, IList<TorchSharp.Modules.Parameter> parameters)
    {
        var spec = _model.Specification;
        int stage = StageAt(step);
        if (spec.Curriculum is { ResetOptimizer: true } && step > 0 && stage != StageAt(step - 1))
        {
            Optimizer.Dispose();
            Optimizer = NewOptimizer(); // Coconut resets the optimizer when a stage begins
        }
        var random = new Random(Seeds.Mix(Options.Seed, step, 1));
        var (min, max) = spec.CompressionRange;
        int compression = Options.Compression ?? random.Next(min, max + 1);
        bool autoSpeed = spec.Compression is { AutoSpeedProbability: > 0 } cs && random.NextDouble() < cs.AutoSpeedProbability;
        var batch = new SftBatch(_schedule.Batch(step).Select(i => _data[i]).ToList());
        var generator = new Generator((ulong)Seeds.Mix(Options.Seed, step, 2), _device);
        double lr = LearningRateAt(step);
        foreach (var group in Optimizer.ParamGroups) group.LearningRate = lr;

        using var scope = torch.NewDisposeScope();
        Optimizer.zero_grad();
        var loss = (_mixed?.Working ?? _model).ComputeSftLoss(batch, new SftContext
        {
            Layout = _layout, Device = _device, Compression = compression, AutoSpeed = autoSpeed,
            Stage = stage, Random = random, Generator = generator,
        });
        bool finiteLoss = double.IsFinite(loss.Terms.GetValueOrDefault("loss", loss.Total.ToDouble()));
        double norm = double.NaN;
        if (finiteLoss)
        {
            loss.Total.backward();
            _mixed?.CopyGradients();
            norm = Options.GradientClip > 0
                ? torch.nn.utils.clip_grad_norm_(parameters, Options.GradientClip)
                : GradientNorm(parameters);
        }
        bool skipped = false;
        if (!finiteLoss || !double.IsFinite(norm))
        {
            var terms = string.Join(", ", loss.Terms.Select(t => $"{t.Key}={t.Value:G4}"));
            var what = finiteLoss ? $"gradient norm is {norm}" : "loss is not finite";
            if (!Options.SkipNonFinite)
                throw new TrainingStoppedException($"step {step + 1}: {what} ({terms}, compression {compression}); stopping — the last checkpoint is kept. Lower the learning rate or pass skip_non_finite=true to skip such batches.");
            SkippedBatches++;
            skipped = true;
            Optimizer.zero_grad();
        }
        else
        {
            Optimizer.step();
            _mixed?.SyncTrainable();
        }
        generator.Dispose();
        return new StepReport(step + 1, _schedule.EpochOf(step), stage, compression, lr, norm, loss.Terms, 0, skipped);
    }

    optim.Optimizer NewOptimizer() => torch.optim.AdamW(
        _model.parameters().Where(p => p.requires_grad),
        lr: Options.LearningRate, beta1: Options.Beta1, beta2: Options.Beta2, weight_decay: Options.WeightDecay);

    /// <summary>The global L2 norm of the gradients, for a step that does not clip (gradient_clip=0).</summary>
    internal static double GradientNorm(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        using var scope = torch.NewDisposeScope();
        double sum = 0;
        foreach (var p in parameters)
            if (p.grad is { } g) sum += g.pow(2).sum().ToDouble();
        return Math.Sqrt(sum);
    }
}
