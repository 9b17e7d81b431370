using CoLaR.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CoLaR.Models.Bench;

/// <summary>A batch of token sequences for a language-model training step: inputs, their mask, and next-token labels (-100 where none).</summary>
public sealed record LmBatch(Tensor Ids, Tensor Mask, Tensor Labels) : IDisposable
{
    public long Tokens => Ids.shape[0] * Ids.shape[1];

    /// <summary>
    /// Random tokens in [1, vocab). With <paramref name="padded"/>, each row's length is drawn from
    /// [¾T, T] and the rest right-padded (as SFT batches are); otherwise every row is full.
    /// </summary>
    public static LmBatch Random(int vocab, int batch, int length, bool padded, int seed)
    {
        var random = new Random(seed);
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        var labels = new long[batch * length];
        for (int i = 0; i < batch; i++)
        {
            int real = padded ? random.Next(length * 3 / 4, length + 1) : length;
            for (int j = 0; j < length; j++)
            {
                int at = i * length + j;
                ids[at] = j < real ? random.Next(1, vocab) : 0;
                mask[at] = j < real ? 1 : 0;
            }
            for (int j = 0; j < length; j++)
                labels[i * length + j] = j + 1 < real ? ids[i * length + j + 1] : -100;
        }
        long[] shape = { batch, length };
        var result = new LmBatch(torch.tensor(ids, shape), torch.tensor(mask, shape), torch.tensor(labels, shape));
        result.Ids.DetachFromDisposeScope(); result.Mask.DetachFromDisposeScope(); result.Labels.DetachFromDisposeScope();
        return result;
    }

    public void Dispose() { Ids.Dispose(); Mask.Dispose(); Labels.Dispose(); }
}

/// <summary>How long each phase of one step took (seconds).</summary>
public readonly record struct StepTimes(double Total, double Forward, double Backward, double Optimizer);

/// <summary>A model under training with its optimizer: one step = zero_grad, forward, CE, backward, clip to 1, AdamW.</summary>
public interface ITrainable
{
    StepTimes Step(LmBatch batch);
    /// <summary>Loss and gradient norm of a batch (no optimizer step), for the equivalence check.</summary>
    (double Loss, double GradNorm) LossAndGradNorm(LmBatch batch);
}

/// <summary>A generated backbone trained the way <see cref="Training.SftTrainer"/> does: one dispose scope per step.</summary>
public sealed class FusedTrainable : ITrainable
{
    readonly Backbone _model;
    readonly List<Parameter> _parameters;
    readonly optim.Optimizer _optimizer;

    public FusedTrainable(Backbone model, double lr = 1e-4)
    {
        _model = model;
        _model.train();
        _parameters = model.parameters().ToList();
        _optimizer = torch.optim.AdamW(_parameters, lr: lr, weight_decay: 0.01);
    }

    public Backbone Model => _model;

    Tensor Loss(LmBatch batch)
    {
        var hidden = _model.Forward(_model.Embed(batch.Ids), batch.Mask, AttentionOps.PositionIds(batch.Mask));
        var logits = _model.Logits(hidden);
        return F.cross_entropy(logits.view(-1, logits.shape[^1]), batch.Labels.view(-1));
    }

    public StepTimes Step(LmBatch batch)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        var loss = Loss(batch);
        var forward = System.Diagnostics.Stopwatch.GetTimestamp();
        loss.backward();
        var backward = System.Diagnostics.Stopwatch.GetTimestamp();
        torch.nn.utils.clip_grad_norm_(_parameters, 1.0);
        _optimizer.step();
        var end = System.Diagnostics.Stopwatch.GetTimestamp();
        return Times(start, forward, backward, end);
    }

    public (double Loss, double GradNorm) LossAndGradNorm(LmBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        _optimizer.zero_grad();
        var loss = Loss(batch);
        loss.backward();
        double norm = torch.nn.utils.clip_grad_norm_(_parameters, 1e30);
        return (loss.ToDouble(), norm);
    }

    internal static StepTimes Times(long start, long forward, long backward, long end)
    {
        double f = System.Diagnostics.Stopwatch.Frequency;
        return new StepTimes((end - start) / f, (forward - start) / f, (backward - forward) / f, (end - backward) / f);
    }
}

/// <summary>The hand-written baseline trained as a naive user would: no scope, no using, the GC frees what it frees.</summary>
public sealed class UnfusedTrainable : ITrainable
{
    readonly UnfusedLlama _model;
    readonly List<Parameter> _parameters;
    readonly optim.Optimizer _optimizer;

    public UnfusedTrainable(UnfusedLlama model, double lr = 1e-4)
    {
        _model = model;
        _model.train();
        _parameters = model.parameters().ToList();
        _optimizer = torch.optim.AdamW(_parameters, lr: lr, weight_decay: 0.01);
    }

    Tensor Loss(LmBatch batch)
    {
        var logits = _model.Forward(batch.Ids, batch.Mask);
        return F.cross_entropy(logits.view(-1, logits.shape[^1]), batch.Labels.view(-1));
    }

    public StepTimes Step(LmBatch batch)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        _optimizer.zero_grad();
        var loss = Loss(batch);
        var forward = System.Diagnostics.Stopwatch.GetTimestamp();
        loss.backward();
        var backward = System.Diagnostics.Stopwatch.GetTimestamp();
        torch.nn.utils.clip_grad_norm_(_parameters, 1.0);
        _optimizer.step();
        var end = System.Diagnostics.Stopwatch.GetTimestamp();
        return FusedTrainable.Times(start, forward, backward, end);
    }

    public (double Loss, double GradNorm) LossAndGradNorm(LmBatch batch)
    {
        _optimizer.zero_grad();
        var loss = Loss(batch);
        loss.backward();
        double norm = torch.nn.utils.clip_grad_norm_(_parameters, 1e30);
        return (loss.ToDouble(), norm);
    }
}
