using CoLaR.Modules;
using CoLaR.Specs;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CoLaR.Training;

/// <summary>
/// The SFT objectives the generated reasoners call, one per root attribute. Each lays out the batch
/// the way its method sees reasoning steps, runs the backbone once (or, for continuous thoughts, once
/// per thought over a KV cache) and returns the weighted loss with its terms.
/// </summary>
public static class Objectives
{
    // ------------------------------------------------------------------ CoLaR

    /// <summary>
    /// [LatentReasoner]: question (left-padded) + compressed step embeddings (c tokens merged per
    /// position) + answer (right-padded). CE on each group's random-token label and on the answer;
    /// the latent head at every step position but the last predicts the next compressed embedding
    /// divided by embeds_std (MSE of a reparameterised sample, or NLL).
    /// </summary>
    public static SftLoss CompressedLatent(ReasonerModule model, SftBatch batch, SftContext ctx)
    {
        var spec = model.Specification;
        var head = spec.LatentHead ?? throw new InvalidOperationException($"{spec.Name} has no latent head");
        var layout = ctx.Layout;
        var backbone = model.Backbone;
        double embedsStd = model.EnsureEmbedsStd();
        int c = ctx.Compression, b = batch.Samples.Count;

        using var scope = torch.NewDisposeScope();
        var speed = layout.Speed(ctx.AutoSpeed ? null : c);
        var (qIds, qMask) = Batching.Pad(batch.Samples.Select(s => s.Question.Concat(speed).ToArray()).ToList(), layout.PadId, left: true, ctx.Device);
        var (aIds, aMask) = Batching.Pad(batch.Samples.Select(s => s.Answer).ToList(), layout.PadId, left: false, ctx.Device);
        var groups = CompressedGroups.Build(batch.Samples.Select(s => s.StepTokens(layout.StepSeparator)).ToList(), c, layout.ThinkId, layout.PadId, ctx.Random);
        int g = groups.Slots;
        long q = qIds.shape[1];

        var gIds = torch.tensor(groups.TokenIds, new long[] { b, g * c }, device: ctx.Device);
        var gReal = torch.tensor(groups.Real, new long[] { b * g, c }, device: ctx.Device);
        var gValid = torch.tensor(groups.Valid, new long[] { b, g }, device: ctx.Device);
        var gLabels = torch.tensor(groups.Labels, new long[] { b, g }, device: ctx.Device);

        var members = backbone.Embed(gIds).view(b * g, c, -1);                      // [B·G, c, H]
        var merged = model.MergeGroups(members, gReal).view(b, g, -1);              // [B, G, H]
        var stepLabels = spec.Objective.CompressedLabels ? gLabels : torch.full_like(gLabels, Batching.Ignore);

        // Question (left-padded) | groups (left-padded) | answer (right-padded), then every padding slot
        // in front of the prefix: the question must end right where its groups begin, or the ### label
        // would be predicted from a padding position. Group slot s stays at position q + s.
        var order = PrefixOrder(batch.Samples.Select(s => s.Question.Length + speed.Length).ToArray(), groups.Counts, (int)q, g, (int)aIds.shape[1], ctx.Device);
        var inputs = Gather(torch.cat(new[] { backbone.Embed(qIds), merged, backbone.Embed(aIds) }, 1), order);          // [B, L, H]
        var mask = Gather(torch.cat(new[] { qMask, gValid.to(ScalarType.Int64), aMask }, 1), order);                    // [B, L]
        var labels = Gather(torch.cat(new[] { torch.full_like(qIds, Batching.Ignore), stepLabels, aIds.masked_fill(aMask == 0, Batching.Ignore) }, 1), order);
        var hidden = backbone.Forward(inputs, mask, AttentionOps.PositionIds(mask));                                    // [B, L, H]
        var (ce, _) = Batching.NextTokenCrossEntropy(backbone, hidden, labels);

        var terms = new Dictionary<string, double>();
        var total = ce * spec.Objective.CeWeight;
        if (g > 1)
        {
            // Slot s predicts slot s+1: every real group but the last has a target.
            // Latent losses in fp32 whatever the working precision.
            var predicted = model.PredictLatent(hidden.narrow(1, q, g - 1)).ToFloat32();          // [B, G-1, H]
            var target = Precisions.Float32(merged.narrow(1, 1, g - 1).detach()) / embedsStd;      // [B, G-1, H]
            var valid = gValid.narrow(1, 0, g - 1) & gValid.narrow(1, 1, g - 1);                   // [B, G-1]
            var perPosition = head.Loss == LatentLoss.Nll
                ? -predicted.LogProb(target)
                : (predicted.Rsample(1.0, ctx.Generator) - target).pow(2).mean(new long[] { -1 });
            var latent = Batching.MaskedMean(perPosition, valid);
            total = total + latent * spec.Objective.LatentWeight;
            terms["latent"] = latent.ToDouble();
            if (spec.Objective.EntropyWeight > 0)
            {
                var entropy = Batching.MaskedMean(predicted.Entropy(), valid);
                total = total - entropy * spec.Objective.EntropyWeight;
                terms["entropy"] = entropy.ToDouble();
            }
        }
        terms["ce"] = ce.ToDouble();
        terms["loss"] = total.ToDouble();
        return new SftLoss(total.MoveToOuterDisposeScope(), terms);
    }

    /// <summary>
    /// Per row, the source positions of [question pads, group pads, question, groups, answer] in the
    /// concatenation [question (left-padded, width q) | groups (left-padded, width g) | answer (width a)].
    /// </summary>
    internal static Tensor PrefixOrder(int[] questionLengths, int[] groupCounts, int q, int g, int a, Device device)
    {
        int b = questionLengths.Length, width = q + g + a;
        var order = new long[b * width];
        for (int i = 0; i < b; i++)
        {
            int k = i * width, qPad = q - questionLengths[i], gPad = g - groupCounts[i];
            for (int j = 0; j < qPad; j++) order[k++] = j;
            for (int j = 0; j < gPad; j++) order[k++] = q + j;
            for (int j = qPad; j < q; j++) order[k++] = j;
            for (int j = gPad; j < g; j++) order[k++] = q + j;
            for (int j = 0; j < a; j++) order[k++] = q + g + j;
        }
        return torch.tensor(order, new long[] { b, width }, device: device);
    }

    /// <summary>Reorders positions (dimension 1) of [B, L] or [B, L, H] by a per-row order [B, L].</summary>
    static Tensor Gather(Tensor source, Tensor order) =>
        source.dim() == 2 ? source.gather(1, order) : source.gather(1, order.unsqueeze(-1).expand(-1, -1, source.shape[2]));

    // ------------------------------------------------------------------ text

    /// <summary>
    /// [ChainOfThought]: question + ### + steps + answer, CE on everything after the question. With a
    /// curriculum (iCoT), stage k drops the first k·StepsPerStage steps; once none remain the reasoning is
    /// the opening ### alone, so the model learns to close it at once (see <see cref="ChainOfThoughtReasoning"/>).
    /// </summary>
    public static SftLoss ChainOfThought(ReasonerModule model, SftBatch batch, SftContext ctx) =>
        TextObjective(model, batch, ctx, sample => ChainOfThoughtReasoning(model.Specification, ctx.Layout, sample, ctx.Stage));

    /// <summary>[DirectAnswer]: question + answer (No-CoT).</summary>
    public static SftLoss DirectAnswer(ReasonerModule model, SftBatch batch, SftContext ctx) =>
        TextObjective(model, batch, ctx, _ => Array.Empty<int>());

    /// <summary>
    /// What a [ChainOfThought] model is trained to write between the question and the answer at a curriculum
    /// stage: ### and the steps from k·StepsPerStage on, joined by "\n". The ### stays when no step is left:
    /// inference prompts "question ###" and reads the reasoning up to the next ###, so a trained sequence
    /// without it ("question ### Answer: x") would teach the model to write the answer as its reasoning and
    /// never stop (iCoT's final stage).
    /// </summary>
    public static int[] ChainOfThoughtReasoning(ReasonerSpec spec, PromptLayout layout, EncodedSample sample, int stage)
    {
        var curriculum = spec.Curriculum;
        bool allRemoved = curriculum is not null && stage >= curriculum.MaxStages;
        int removed = curriculum is null ? 0 : Math.Min(stage, curriculum.MaxStages) * curriculum.StepsPerStage;
        if (allRemoved || removed >= sample.Steps.Length) return new[] { layout.ThinkId };
        return new[] { layout.ThinkId }.Concat(sample.StepTokens(layout.StepSeparator, removed)).ToArray();
    }

    /// <summary>### + every step: what the CoT teacher of Distill sees.</summary>
    static int[] FullReasoning(PromptLayout layout, EncodedSample sample) =>
        new[] { layout.ThinkId }.Concat(sample.StepTokens(layout.StepSeparator)).ToArray();

    static SftLoss TextObjective(ReasonerModule model, SftBatch batch, SftContext ctx, Func<EncodedSample, int[]> reasoning)
    {
        var layout = ctx.Layout;
        using var scope = torch.NewDisposeScope();
        var rows = new List<int[]>();
        var labelRows = new List<long[]>();
        foreach (var s in batch.Samples)
        {
            var r = reasoning(s);
            var ids = s.Question.Concat(r).Concat(s.Answer).ToArray();
            var labels = new long[ids.Length];
            for (int i = 0; i < ids.Length; i++) labels[i] = i < s.Question.Length ? Batching.Ignore : ids[i];
            rows.Add(ids);
            labelRows.Add(labels);
        }
        var (ids2, mask) = Batching.Pad(rows, layout.PadId, left: false, ctx.Device);
        var labelsTensor = PadLabels(labelRows, ids2.shape[1], ctx.Device);
        var hidden = model.Backbone.Forward(model.Backbone.Embed(ids2), mask, AttentionOps.PositionIds(mask));
        var (ce, _) = Batching.NextTokenCrossEntropy(model.Backbone, hidden, labelsTensor);
        var total = ce * model.Specification.Objective.CeWeight;
        var terms = new Dictionary<string, double> { ["ce"] = ce.ToDouble(), ["loss"] = total.ToDouble() };
        return new SftLoss(total.MoveToOuterDisposeScope(), terms);
    }

    static Tensor PadLabels(List<long[]> rows, long width, Device device)
    {
        var flat = new long[rows.Count * width];
        Array.Fill(flat, Batching.Ignore);
        for (int i = 0; i < rows.Count; i++) Array.Copy(rows[i], 0, flat, i * width, rows[i].Length);
        return torch.tensor(flat, new long[] { rows.Count, width }, device: device);
    }

    // ------------------------------------------------------------------ continuous thoughts

    /// <summary>
    /// [ContinuousThought]: question + ### (left-padded, run once into a KV cache), then T continuous
    /// thoughts — each the projected last hidden state fed back as the next input, so every thought
    /// sees the question — then the remaining steps and the answer, CE on those. Coconut's curriculum
    /// replaces the first k·StepsPerStage steps by k·ThoughtsPerStep thoughts at stage k; from
    /// MaxStages on (and without a curriculum) all steps are replaced by MaxThoughts thoughts. With a
    /// [TeacherAlignment] (Distill), a teacher pass over the full CoT adds its CE, and the student's last
    /// hidden state at the answer's "Answer:" anchor is pulled toward the teacher's (detached).
    /// </summary>
    public static SftLoss ContinuousThought(ReasonerModule model, SftBatch batch, SftContext ctx)
    {
        var spec = model.Specification;
        var thoughts = spec.Thoughts ?? throw new InvalidOperationException($"{spec.Name} declares no continuous thoughts");
        var layout = ctx.Layout;
        var backbone = model.Backbone;
        int stage = spec.Curriculum is null ? int.MaxValue : ctx.Stage;
        bool final = spec.Curriculum is null || stage >= spec.Curriculum.MaxStages;
        int removeSteps = final ? int.MaxValue : stage * spec.Curriculum!.StepsPerStage;
        int thoughtCount = final ? thoughts.Max : Math.Min(thoughts.Max, stage * thoughts.PerStep);

        using var scope = torch.NewDisposeScope();
        var prefixes = batch.Samples.Select(s => s.Question.Append(layout.ThinkId).ToArray()).ToList();
        var rests = new List<int[]>();
        var anchors = new List<int>();
        foreach (var s in batch.Samples)
        {
            var remaining = removeSteps >= s.Steps.Length ? Array.Empty<int>() : s.StepTokens(layout.StepSeparator, removeSteps);
            rests.Add(remaining.Concat(s.Answer).ToArray());
            anchors.Add(remaining.Length + s.AnswerAnchor);
        }
        var (pIds, pMask) = Batching.Pad(prefixes, layout.PadId, left: true, ctx.Device);
        var (rIds, rMask) = Batching.Pad(rests, layout.PadId, left: false, ctx.Device);
        long b = pIds.shape[0];

        using var cache = backbone.NewCache();
        var mask = pMask;
        var hidden = backbone.Forward(backbone.Embed(pIds), mask, AttentionOps.PositionIds(mask), cache);
        var last = hidden.narrow(1, hidden.shape[1] - 1, 1);                                       // [B, 1, H]
        var nextPosition = pMask.sum(1, keepdim: true);                                            // [B, 1]
        for (int t = 0; t < thoughtCount; t++)
        {
            mask = torch.cat(new[] { mask, torch.ones(b, 1, dtype: ScalarType.Int64, device: ctx.Device) }, 1);
            last = backbone.Forward(model.ProjectThought(last), mask, nextPosition, cache);        // [B, 1, H]
            nextPosition = nextPosition + 1;
        }
        mask = torch.cat(new[] { mask, rMask }, 1);
        var restPositions = nextPosition + AttentionOps.PositionIds(rMask);
        var restHidden = backbone.Forward(backbone.Embed(rIds), mask, restPositions, cache);        // [B, R, H]

        // The last prefix/thought position predicts the first rest token.
        var scored = torch.cat(new[] { last, restHidden }, 1);                                     // [B, R+1, H]
        var labels = torch.cat(new[] { torch.full(b, 1, Batching.Ignore, dtype: ScalarType.Int64, device: ctx.Device),
                                       rIds.masked_fill(rMask == 0, Batching.Ignore) }, 1);
        var (ce, _) = Batching.NextTokenCrossEntropy(backbone, scored, labels);
        var total = ce * spec.Objective.CeWeight;
        var terms = new Dictionary<string, double> { ["ce"] = ce.ToDouble(), ["thoughts"] = thoughtCount };

        if (spec.Teacher is { } teacher)
        {
            // Teacher: the same weights on the full chain of thought.
            var fullReasoning = batch.Samples.Select(s => FullReasoning(layout, s)).ToList();
            var teacherRows = batch.Samples.Select((s, i) => s.Question.Concat(fullReasoning[i]).Concat(s.Answer).ToArray()).ToList();
            var teacherAnchors = batch.Samples.Select((s, i) => s.Question.Length + fullReasoning[i].Length + s.AnswerAnchor).ToArray();
            var (tIds, tMask) = Batching.Pad(teacherRows, layout.PadId, left: false, ctx.Device);
            var tLabels = tIds.masked_fill(tMask == 0, Batching.Ignore).clone();
            for (int i = 0; i < teacherRows.Count; i++) tLabels[i].narrow(0, 0, batch.Samples[i].Question.Length).fill_(Batching.Ignore);
            var tHidden = backbone.Forward(backbone.Embed(tIds), tMask, AttentionOps.PositionIds(tMask));
            var (teacherCe, _) = Batching.NextTokenCrossEntropy(backbone, tHidden, tLabels);

            var studentAt = torch.tensor(anchors.Select(a => (long)a).ToArray(), device: ctx.Device);
            var teacherAt = torch.tensor(teacherAnchors.Select(a => (long)a).ToArray(), device: ctx.Device);
            var rows = torch.arange(b, device: ctx.Device);
            var student = Precisions.Float32(restHidden[rows, studentAt]);                           // [B, H], fp32 loss
            var target = Precisions.Float32(tHidden[rows, teacherAt].detach());                      // [B, H]
            var alignment = teacher.Loss switch
            {
                AlignmentLoss.L1 => F.l1_loss(student, target),
                AlignmentLoss.Mse => F.mse_loss(student, target),
                _ => F.smooth_l1_loss(student, target),
            };
            if (teacher.Normalize) alignment = alignment / target.abs().mean().clamp_min(1e-6);
            total = total + teacherCe * spec.Objective.CeWeight + alignment * teacher.Weight;
            terms["teacher_ce"] = teacherCe.ToDouble();
            terms["alignment"] = alignment.ToDouble();
        }
        terms["loss"] = total.ToDouble();
        return new SftLoss(total.MoveToOuterDisposeScope(), terms);
    }
}
