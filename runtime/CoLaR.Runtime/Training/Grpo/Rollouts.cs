using CoLaR.Evaluation;
using CoLaR.Inference;
using CoLaR.Modules;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CoLaR.Training.Grpo;

/// <summary>
/// One sampled attempt at a question: the latents the head sampled (normalised, i.e. before × embeds_std),
/// and the answer tokens, starting with the ### that ended the latents.
/// </summary>
/// <param name="Question">Index of the question in the batch.</param>
/// <param name="Prompt">"question (Thinking speed: c) ###" as ids.</param>
/// <param name="Latents">[#L, H] on the CPU.</param>
/// <param name="AnswerTokens">### then the sampled answer (EOS included when emitted).</param>
/// <param name="StoppedByModel">The LM head sampled the ###; false when the step cap forced it (then it is not credited).</param>
/// <param name="AnswerText">The decoded answer.</param>
/// <param name="Correct">Whether the answer matched the gold one.</param>
/// <param name="Reward">1 if correct (÷ max(1, #L) with the length penalty), else 0.</param>
/// <param name="SampledLogProbs">Log-probabilities recorded while sampling, in <see cref="Rollouts.Score"/>'s order (latents, the decisions to
/// go on before each latent, the ### when the model chose it, answer tokens): a check that the teacher-forced scoring sees exactly what was sampled.</param>
public sealed record Rollout(int Question, int[] Prompt, Tensor Latents, int[] AnswerTokens, bool StoppedByModel, string AnswerText, bool Correct, double Reward,
    float[] SampledLogProbs)
{
    public int Steps => (int)Latents.shape[0];

    /// <summary>log(1 − p(###)) of each decision to go on, one per latent (the middle block of <see cref="SampledLogProbs"/>).</summary>
    public IEnumerable<float> GoOnLogProbs => SampledLogProbs.Skip(Steps).Take(Steps);
}

/// <summary>Sampling rollouts and scoring them (the log-probabilities GRPO's ratio compares).</summary>
public static class Rollouts
{
    /// <summary>
    /// Samples <paramref name="groupSize"/> rollouts per question, batched: latents from the latent head
    /// (temperature-scaled std, raised to <paramref name="latentStdFloor"/>), the stop decision sampled from the LM head at every latent position (from
    /// the ### position on), then ### and a sampled answer. No gradients.
    /// </summary>
    public static List<Rollout> Sample(ReasonerModule model, PromptLayout layout, IReadOnlyList<EncodedSample> questions,
        int groupSize, int compression, double latentTemperature, double tokenTemperature, bool lengthPenalty, Generator generator, Device device,
        double latentStdFloor = 0)
    {
        var spec = model.Specification;
        var backbone = model.Backbone;
        double std = model.EnsureEmbedsStd();
        var rows = questions.SelectMany((q, i) => Enumerable.Repeat((Sample: q, Index: i), groupSize)).ToList();
        var prompts = rows.Select(r => layout.Prompt(r.Sample, compression, withSpeed: true)).ToList();
        int n = rows.Count;
        var decoding = new AnswerDecoding(true, TopP: 1.0, Temperature: tokenTemperature);

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = Batching.Pad(prompts, layout.PadId, left: true, device);
        using var state = new DecodeState(backbone, ids, mask, out var last);
        var latents = Enumerable.Range(0, n).Select(_ => new List<Tensor>()).ToArray();
        var latentLogProbs = Enumerable.Range(0, n).Select(_ => new List<float>()).ToArray();
        var stopLogProbs = new float[n];
        var continueLogProbs = Enumerable.Range(0, n).Select(_ => new List<float>()).ToArray();
        var done = SampledThink(backbone, last, layout.ThinkId, decoding, generator, stopLogProbs, continueLogProbs, null);
        var stopped = (bool[])done.Clone();
        for (int s = 0; s < spec.MaxLatentSteps && done.Contains(false); s++)
        {
            using var step = torch.NewDisposeScope();
            var distribution = model.PredictLatent(last).WithStdFloor(latentStdFloor);
            var z = distribution.Rsample(latentTemperature, generator);                          // [N, H] normalised
            var zCpu = z.cpu();
            var zLogProbs = distribution.LogProb(z).cpu().data<float>().ToArray();
            for (int i = 0; i < n; i++)
            {
                if (done[i]) continue;
                latents[i].Add(zCpu[i].clone().DetachFromDisposeScope());
                latentLogProbs[i].Add(zLogProbs[i]);
            }
            var active = torch.tensor(done.Select(d => !d).ToArray(), device: device);
            var next = state.Step(z * std, active);
            last = torch.where(active.unsqueeze(1), next, last).MoveToOuterDisposeScope();
            var think = SampledThink(backbone, next, layout.ThinkId, decoding, generator, stopLogProbs, continueLogProbs, done);
            for (int i = 0; i < n; i++)
                if (!done[i] && think[i]) { done[i] = true; stopped[i] = true; }
        }
        var answerLogProbs = Enumerable.Range(0, n).Select(_ => new List<float>()).ToArray();
        var answers = AnswerDecoder.AfterClosingThink(backbone, state, layout, spec.MaxAnswerTokens, decoding, generator, answerLogProbs);

        var result = new List<Rollout>(n);
        for (int i = 0; i < n; i++)
        {
            var tokens = new List<int> { layout.ThinkId };
            tokens.AddRange(answers[i]);
            if (answers[i].Count < spec.MaxAnswerTokens) tokens.Add(layout.EosId); // the EOS that ended it was sampled too
            var text = layout.Tokenizer.Decode(answers[i]);
            bool correct = AnswerMatcher.IsCorrect(PromptLayout.AnswerText(text), rows[i].Sample.Source.Answer);
            var stacked = latents[i].Count == 0
                ? torch.zeros(0, backbone.Config.Hidden)
                : torch.stack(latents[i]);
            foreach (var t in latents[i]) t.Dispose();
            // A decision to go on counts for the latents it led to: the one after the step cap led to none.
            var continues = continueLogProbs[i].Take(latents[i].Count);
            var sampled = latentLogProbs[i].Concat(continues).Concat(stopped[i] ? new[] { stopLogProbs[i] } : Array.Empty<float>()).Concat(answerLogProbs[i]).ToArray();
            result.Add(new Rollout(rows[i].Index, prompts[i], stacked.DetachFromDisposeScope(), tokens.ToArray(), stopped[i], text, correct,
                GrpoMath.Reward(correct, (int)stacked.shape[0], lengthPenalty), sampled));
        }
        return result;
    }

    /// <summary>Samples the stop decision of each row not yet done; records log p(###) and, for rows that go on, log(1 − p(###)).</summary>
    static bool[] SampledThink(Backbone backbone, Tensor hidden, int thinkId, AnswerDecoding decoding, Generator generator, float[] thinkLogProbs,
        List<float>[] continueLogProbs, bool[]? done)
    {
        using var scope = torch.NewDisposeScope();
        var logits = backbone.Logits(hidden);
        var token = TokenPicker.Pick(logits, decoding, generator);
        var (stop, goOn) = StopLogProbs(logits, thinkId);
        var logP = stop.cpu().data<float>().ToArray();
        var logQ = goOn.cpu().data<float>().ToArray();
        var think = (token == thinkId).cpu().data<bool>().ToArray();
        for (int i = 0; i < logP.Length; i++)
        {
            if (done is not null && done[i]) continue;
            thinkLogProbs[i] = logP[i];
            if (!think[i]) continueLogProbs[i].Add(logQ[i]);
        }
        return think;
    }

    /// <summary>log p(###) and log(1 − p(###)) from logits [..., V], in fp32. The second is a log-sum-exp over every
    /// other token, exact even where p(###) rounds to 1.</summary>
    static (Tensor Stop, Tensor GoOn) StopLogProbs(Tensor logits, int thinkId)
    {
        using var scope = torch.NewDisposeScope();
        var x = logits.to(ScalarType.Float32);
        var all = x.logsumexp(-1);
        var others = x.index_fill(-1, torch.tensor(new long[] { thinkId }, device: x.device), float.NegativeInfinity).logsumexp(-1);
        var stop = x.select(-1, thinkId) - all;
        return (stop.MoveToOuterDisposeScope(), (others - all).MoveToOuterDisposeScope());
    }

    /// <summary>The log-probabilities of a batch of rollouts under the current weights, teacher-forced in one forward pass.</summary>
    /// <returns>LogProbs and Mask [N, 2·Lmax + Amax]: latents first (Normal log-prob of the normalised latent, mean over
    /// dimensions), then the decisions to go on (log(1 − p(###)) at the position that predicted each latent), then answer
    /// tokens (the ### from the position that ended the latents); Entropy: the latent head's mean entropy over latent positions.</returns>
    /// <remarks>With <paramref name="scoreContinues"/> false the go-on block is zeros (for a trainer that masks it out): the LM
    /// head then runs only at the answer positions, not at every latent position, which spares [N, L, vocab] logits.</remarks>
    public static (Tensor LogProbs, Tensor Mask, Tensor Entropy) Score(ReasonerModule model, PromptLayout layout, IReadOnlyList<Rollout> rollouts, Device device,
        double latentStdFloor = 0, bool scoreContinues = true)
    {
        var backbone = model.Backbone;
        double std = model.EnsureEmbedsStd();
        int n = rollouts.Count, h = backbone.Config.Hidden;
        int lMax = rollouts.Max(r => r.Steps), aMax = rollouts.Max(r => r.AnswerTokens.Length);

        using var scope = torch.NewDisposeScope();
        var (pIds, pMask) = Batching.Pad(rollouts.Select(r => r.Prompt).ToList(), layout.PadId, left: true, device);
        var (aIds, aMask) = Batching.Pad(rollouts.Select(r => r.AnswerTokens).ToList(), layout.PadId, left: false, device);
        long p = pIds.shape[1];
        var z = torch.zeros(n, Math.Max(lMax, 1), h, device: device);                        // [N, L, H], padded
        var zMask = torch.zeros(n, Math.Max(lMax, 1), dtype: ScalarType.Int64, device: device);
        for (int i = 0; i < n; i++)
        {
            if (rollouts[i].Steps == 0) continue;
            z[i].narrow(0, 0, rollouts[i].Steps).copy_(rollouts[i].Latents);
            zMask[i].narrow(0, 0, rollouts[i].Steps).fill_(1);
        }
        z = z.narrow(1, 0, lMax);
        zMask = zMask.narrow(1, 0, lMax);
        var inputs = torch.cat(new[] { backbone.Embed(pIds), z * std, backbone.Embed(aIds) }, 1);
        var mask = torch.cat(new[] { pMask, zMask, aMask }, 1);
        var hidden = backbone.Forward(inputs, mask, AttentionOps.PositionIds(mask));            // [N, P+L+A, H]

        // Latent k is predicted at the position before it: the prompt's ### for k = 0, else latent k-1. The
        // decision to go on rather than stop was taken at that same position.
        Tensor latentLogProbs, continueLogProbs, entropy;
        if (lMax > 0)
        {
            var before = hidden.narrow(1, p - 1, lMax);                                            // [N, L, H]
            var predicted = model.PredictLatent(before).WithStdFloor(latentStdFloor);
            latentLogProbs = predicted.LogProb(z);                                                // [N, L]
            continueLogProbs = scoreContinues
                ? StopLogProbs(backbone.Logits(before), layout.ThinkId).GoOn                      // [N, L]
                : torch.zeros(n, lMax, device: device);
            entropy = Batching.MaskedMean(predicted.Entropy(), zMask);
        }
        else
        {
            latentLogProbs = continueLogProbs = torch.zeros(n, 0, device: device);
            entropy = torch.zeros(1, device: device).sum();
        }

        // Answer token 0 (###) is predicted where the latents ended; token j > 0 at answer token j-1.
        var ended = torch.tensor(rollouts.Select(r => p - 1 + r.Steps).ToArray(), device: device);       // [N]
        var first = hidden[torch.arange(n, device: device), ended].unsqueeze(1);                           // [N, 1, H]
        var rest = hidden.narrow(1, p + lMax, aMax - 1);                                                  // [N, A-1, H]
        var logits = backbone.Logits(torch.cat(new[] { first, rest }, 1)).to(ScalarType.Float32);         // [N, A, V]
        var tokenLogProbs = F.log_softmax(logits, -1).gather(2, aIds.unsqueeze(2)).squeeze(2);            // [N, A]
        var tokenMask = aMask.clone();
        for (int i = 0; i < n; i++)
            if (!rollouts[i].StoppedByModel) tokenMask[i, 0] = torch.tensor(0L, device: device); // a forced stop is not the policy's choice

        var logProbs = torch.cat(new[] { latentLogProbs, continueLogProbs, tokenLogProbs }, 1);
        var allMask = torch.cat(new[] { zMask, zMask, tokenMask }, 1);
        return (logProbs.MoveToOuterDisposeScope(), allMask.MoveToOuterDisposeScope(), entropy.MoveToOuterDisposeScope());
    }
}
