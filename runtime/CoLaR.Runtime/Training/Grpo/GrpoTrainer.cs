using System.Diagnostics;
using CoLaR.Modules;
using CoLaR.Specs;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Training.Grpo;

/// <summary>What one GRPO iteration measured. <c>EarlyStopProbability</c> is the mean p(###) over the iteration's
/// decisions to go on: how often the stop policy tries stopping sooner (near 0, the length penalty has no shorter
/// rollout to reward).</summary>
public sealed record GrpoReport(int Step, double Reward, double Accuracy, double MeanSteps, double LatentEntropy, double Loss,
    double GradientNorm, double ClippedFraction, double Seconds, double EarlyStopProbability = 0);

/// <summary>
/// Stage 2: group relative policy optimisation over latent reasoning. Each iteration samples a group
/// of rollouts per question, rewards correct answers (divided by #L with the length penalty), normalises
/// advantages within each group, scores the rollouts under the frozen weights, then takes PPO-clipped
/// steps on shuffled mini-batches of the group rollouts. All randomness derives from (seed, step).
/// </summary>
public sealed class GrpoTrainer
{
    readonly ReasonerModule _model;
    readonly IReadOnlyList<EncodedSample> _questions;
    readonly PromptLayout _layout;
    readonly Device _device;
    readonly DataSchedule _schedule;

    public GrpoOptions Options { get; }
    public optim.Optimizer Optimizer { get; }
    public Action<GrpoReport>? StepCompleted { get; set; }
    public Action<int>? CheckpointDue { get; set; }

    public GrpoTrainer(ReasonerModule model, IReadOnlyList<EncodedSample> questions, PromptLayout layout, GrpoOptions options, Device device)
    {
        if (model.Specification.Method != ReasoningMethod.CompressedLatent)
            throw new ArgumentException($"GRPO trains latent reasoners; {model.Specification.Name} is a {model.Specification.Method} model");
        var (min, max) = model.Specification.CompressionRange;
        if (options.Compression < min || options.Compression > max)
            throw new ArgumentException($"compression {options.Compression} is outside the range {model.Specification.Name} was trained on ({min}..{max})");
        _model = model;
        _questions = questions;
        _layout = layout;
        _device = device;
        Options = options;
        _schedule = new DataSchedule(questions.Count, options.Questions, options.Seed);
        Optimizer = torch.optim.AdamW(model.parameters().Where(p => p.requires_grad), lr: options.LearningRate, weight_decay: options.WeightDecay);
    }

    public void Run(int startStep = 0, CancellationToken cancellation = default)
    {
        for (int step = startStep; step < Options.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            var report = Iterate(step);
            StepCompleted?.Invoke(report);
            int done = step + 1;
            if (CheckpointDue is not null && (done % Options.CheckpointEvery == 0 || done == Options.Steps)) CheckpointDue(done);
            if (done % 20 == 0) GC.Collect();
        }
    }

    /// <summary>Whether the latents' log-probs are part of the loss: asked for, and the head is Gaussian.</summary>
    bool TrainsLatents => Options.LatentLogProbs && _model.Specification.LatentHead?.Kind != LatentHeadKind.Deterministic;

    /// <summary>The mask with the latent columns (the first max-#L of <see cref="Rollouts.Score"/>'s layout) cleared.</summary>
    public static Tensor ExcludeLatents(Tensor mask, IReadOnlyList<Rollout> batch) => ExcludeBlock(mask, batch, 0);

    /// <summary>The mask with the go-on decisions (the second max-#L columns of <see cref="Rollouts.Score"/>'s layout) cleared.</summary>
    public static Tensor ExcludeContinues(Tensor mask, IReadOnlyList<Rollout> batch) => ExcludeBlock(mask, batch, 1);

    static Tensor ExcludeBlock(Tensor mask, IReadOnlyList<Rollout> batch, int block)
    {
        int latents = batch.Max(r => r.Steps);
        if (latents == 0) return mask;
        var kept = mask.clone();
        kept.narrow(1, block * latents, latents).zero_();
        return kept;
    }

    /// <summary>One iteration: rollouts, advantages, then PPO-clipped updates. Public for tests.</summary>
    public GrpoReport Iterate(int step)
    {
        var clock = Stopwatch.StartNew();
        var questions = _schedule.Batch(step).Select(i => _questions[i]).ToList();
        using var generator = new Generator((ulong)Seeds.Mix(Options.Seed, step, 3), _device);
        _model.eval();
        var rollouts = Rollouts.Sample(_model, _layout, questions, Options.GroupSize, Options.Compression,
            Options.LatentTemperature, Options.TokenTemperature, Options.LengthPenalty, generator, _device, Options.LatentStdFloor);
        try
        {
            var advantages = GrpoMath.GroupAdvantages(rollouts.Select(r => r.Reward).ToList(), Options.GroupSize, Options.AdvantageEpsilon);

            // Experiences, shuffled across groups, scored once under the weights that sampled them.
            var order = Enumerable.Range(0, rollouts.Count).ToArray();
            new Random(Seeds.Mix(Options.Seed, step, 4)).Shuffle(order);
            var batches = order.Chunk(Math.Max(1, Options.MiniBatch)).ToList();
            var old = new List<Tensor>();
            using (torch.no_grad())
            using (torch.NewDisposeScope())
                foreach (var batch in batches)
                    old.Add(Rollouts.Score(_model, _layout, batch.Select(i => rollouts[i]).ToList(), _device, Options.LatentStdFloor, Options.CreditContinue).LogProbs.DetachFromDisposeScope());

            _model.train();
            double lossSum = 0, normSum = 0, clipped = 0, entropySum = 0;
            int updates = 0;
            var parameters = _model.parameters().Where(p => p.requires_grad).ToList();
            for (int epoch = 0; epoch < Options.UpdateEpochs; epoch++)
            {
                for (int b = 0; b < batches.Count; b++)
                {
                    using var scope = torch.NewDisposeScope();
                    var batch = batches[b].Select(i => rollouts[i]).ToList();
                    var (logProbs, mask, entropy) = Rollouts.Score(_model, _layout, batch, _device, Options.LatentStdFloor, Options.CreditContinue);
                    if (!TrainsLatents) mask = ExcludeLatents(mask, batch);
                    if (!Options.CreditContinue) mask = ExcludeContinues(mask, batch);
                    var adv = torch.tensor(batches[b].Select(i => (float)advantages[i]).ToArray(), device: _device);
                    var loss = GrpoMath.ClippedLoss(logProbs, old[b], adv, mask, Options.Clip, Options.AveragePerToken);
                    if (Options.EntropyWeight > 0) loss = loss - entropy * Options.EntropyWeight;
                    Optimizer.zero_grad();
                    loss.backward();
                    double norm = Options.GradientClip > 0 ? torch.nn.utils.clip_grad_norm_(parameters, Options.GradientClip) : SftTrainer.GradientNorm(parameters);
                    double value = loss.ToDouble();
                    if (!double.IsFinite(value) || !double.IsFinite(norm))
                        throw new TrainingStoppedException($"GRPO step {step + 1}: the loss or its gradient is not finite (loss {value:G4}, gradient norm {norm:G4}); the last checkpoint is kept");
                    Optimizer.step();
                    var ratio = (logProbs.detach() - old[b]).exp();
                    clipped += Batching.MaskedMean(((ratio - 1).abs() > Options.Clip).to(ScalarType.Float32), mask).ToDouble();
                    lossSum += value; normSum += norm; entropySum += entropy.ToDouble(); updates++;
                }
            }
            foreach (var t in old) t.Dispose();
            return new GrpoReport(step + 1,
                Reward: rollouts.Average(r => r.Reward),
                Accuracy: rollouts.Average(r => r.Correct ? 1.0 : 0.0),
                MeanSteps: rollouts.Average(r => r.Steps),
                LatentEntropy: entropySum / Math.Max(1, updates),
                Loss: lossSum / Math.Max(1, updates),
                GradientNorm: normSum / Math.Max(1, updates),
                ClippedFraction: clipped / Math.Max(1, updates),
                Seconds: clock.Elapsed.TotalSeconds,
                EarlyStopProbability: rollouts.SelectMany(r => r.GoOnLogProbs).Select(q => 1 - Math.Exp(q)).DefaultIfEmpty(0).Average());
        }
        finally
        {
            foreach (var r in rollouts) r.Latents.Dispose();
        }
    }
}
