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

/// <summary>
/// A model under training with its optimizer: one step = zero_grad, forward, CE, backward, clip to 1, AdamW.
/// The two kinds differ only in their forward pass and in whether a step's temporaries are freed by a
/// dispose scope (<see cref="ScopesTemporaries"/>) or left to the garbage collector.
/// </summary>
public abstract class Trainable
{
    readonly List<Parameter> _parameters;
    readonly optim.Optimizer _optimizer;

    protected Trainable(nn.Module model, double lr)
    {
        model.train();
        _parameters = model.parameters().ToList();
        _optimizer = torch.optim.AdamW(_parameters, lr: lr, weight_decay: 0.01);
    }

    /// <summary>Next-token cross-entropy of the batch.</summary>
    protected abstract Tensor Loss(LmBatch batch);

    /// <summary>Whether a step runs in a dispose scope (the generated code's way) or not (the naive way).</summary>
    protected abstract bool ScopesTemporaries { get; }

    public StepTimes Step(LmBatch batch)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        using var scope = ScopesTemporaries ? torch.NewDisposeScope() : null;
        _optimizer.zero_grad();
        var loss = Loss(batch);
        var forward = System.Diagnostics.Stopwatch.GetTimestamp();
        loss.backward();
        var backward = System.Diagnostics.Stopwatch.GetTimestamp();
        torch.nn.utils.clip_grad_norm_(_parameters, 1.0);
        _optimizer.step();
        var end = System.Diagnostics.Stopwatch.GetTimestamp();
        double f = System.Diagnostics.Stopwatch.Frequency;
        return new StepTimes((end - start) / f, (forward - start) / f, (backward - forward) / f, (end - backward) / f);
    }

    /// <summary>Loss and gradient norm of a batch (no optimizer step), for the equivalence check.</summary>
    public (double Loss, double GradNorm) LossAndGradNorm(LmBatch batch)
    {
        using var scope = ScopesTemporaries ? torch.NewDisposeScope() : null;
        _optimizer.zero_grad();
        var loss = Loss(batch);
        loss.backward();
        double norm = torch.nn.utils.clip_grad_norm_(_parameters, 1e30);
        return (loss.ToDouble(), norm);
    }

    protected static Tensor CrossEntropy(Tensor logits, LmBatch batch) =>
        F.cross_entropy(logits.view(-1, logits.shape[^1]), batch.Labels.view(-1));
}

/// <summary>A generated backbone trained the way <see cref="Training.SftTrainer"/> does: one dispose scope per step.</summary>
public sealed class FusedTrainable(Backbone model, double lr = 1e-4) : Trainable(model, lr)
{
    protected override bool ScopesTemporaries => true;

    protected override Tensor Loss(LmBatch batch) =>
        CrossEntropy(model.Logits(model.Forward(model.Embed(batch.Ids), batch.Mask, AttentionOps.PositionIds(batch.Mask))), batch);
}

/// <summary>The hand-written baseline trained as a naive user would: no scope, no using, the GC frees what it frees.</summary>
public sealed class UnfusedTrainable(UnfusedLlama model, double lr = 1e-4) : Trainable(model, lr)
{
    protected override bool ScopesTemporaries => false;

    protected override Tensor Loss(LmBatch batch) => CrossEntropy(model.Forward(batch.Ids, batch.Mask), batch);
}
