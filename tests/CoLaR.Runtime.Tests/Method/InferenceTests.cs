using CoLaR.Inference;
using CoLaR.Modules;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Method;

/// <summary>Latent generation (batched, KV cache) against a plain step-by-step loop that re-runs the whole sequence.</summary>
public class InferenceTests : IClassFixture<InferenceTests.Trained>
{
    /// <summary>A tiny CoLaR trained long enough to stop on its own (shared by the tests of this class).</summary>
    public sealed class Trained : IDisposable
    {
        public MethodCoLaR Model { get; }

        public Trained()
        {
            torch.manual_seed(1); // before building: the initial weights must not depend on the tests that ran first
            Model = new MethodCoLaR();
            MethodFixture.Train(Model, steps: 1500);
        }
        public void Dispose() => Model.Dispose();
    }

    readonly MethodCoLaR _model;
    public InferenceTests(Trained trained) => _model = trained.Model;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void BatchedLatentGeneration_EqualsAStepByStepForwardWithoutCache(int c)
    {
        var layout = MethodFixture.Layout;
        var questions = MethodFixture.Problems(6, seed: 99);
        var batched = _model.Generate(new GenerationRequest(questions, layout, torch.CPU, c, LatentTemperature: 0)).Answers;

        var steps = new List<int>();
        for (int i = 0; i < questions.Count; i++)
        {
            var (answer, l, stopped) = Reference(_model, layout, layout.Prompt(questions[i], c, withSpeed: true));
            Assert.Equal(l, batched[i].Steps);
            Assert.Equal(stopped, batched[i].StoppedByModel);
            Assert.Equal(answer, batched[i].AnswerText);
            steps.Add(l);
        }
        Assert.Contains(steps, s => s > 0);
    }

    [Fact]
    public void RowsStopIndependently()
    {
        var questions = MethodFixture.Problems(24, seed: 3);
        var steps = _model.Generate(new GenerationRequest(questions, MethodFixture.Layout, torch.CPU, 2, LatentTemperature: 0)).Answers.Select(a => a.Steps).ToList();
        Assert.True(steps.Distinct().Count() > 1, "#L per question: " + string.Join(",", steps));
        Assert.All(steps, s => Assert.InRange(s, 1, _model.Specification.MaxLatentSteps - 1));
    }

    [Fact]
    public void FasterSpeedPrompts_TakeFewerLatentSteps()
    {
        var questions = MethodFixture.Problems(24, seed: 7);
        double MeanSteps(int c) => _model.Generate(new GenerationRequest(questions, MethodFixture.Layout, torch.CPU, c, LatentTemperature: 0))
            .Answers.Average(a => a.Steps);
        Assert.True(MeanSteps(4) < MeanSteps(1), $"c=4: {MeanSteps(4)}, c=1: {MeanSteps(1)}");
    }

    [Fact]
    public void AReasoningBudget_CapsEveryRow_AndTheEvaluatorPassesItOn()
    {
        var questions = MethodFixture.Problems(24, seed: 7);
        var free = _model.Generate(new GenerationRequest(questions, MethodFixture.Layout, torch.CPU, 1, LatentTemperature: 0)).Answers;
        int budget = free.Max(a => a.Steps) - 1;
        Assert.True(budget >= 1, "the tiny model should reason for at least two steps at c = 1");
        var capped = _model.Generate(new GenerationRequest(questions, MethodFixture.Layout, torch.CPU, 1, LatentTemperature: 0, MaxSteps: budget)).Answers;
        Assert.All(capped, a => Assert.InRange(a.Steps, 0, budget));
        Assert.Contains(capped, a => !a.StoppedByModel);
        // Rows that stop within the budget are unaffected.
        foreach (var (f, c) in free.Zip(capped))
            if (f.Steps < budget) Assert.Equal((f.AnswerText, f.Steps), (c.AnswerText, c.Steps));

        var row = CoLaR.Evaluation.Evaluator.Run(_model, MethodFixture.Layout, questions, "CoLaR", "tiny", new CoLaR.Evaluation.EvalOptions(new[] { 1 }, Seeds: 1, LatentTemperature: 0, MaxSteps: budget), torch.CPU).Single();
        Assert.Equal(capped.Average(a => a.Steps), row.MeanSteps, 6);
    }

    [Fact]
    public void ACompressionOutsideTheTrainedRange_IsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            _model.Generate(new GenerationRequest(MethodFixture.Problems(1), MethodFixture.Layout, torch.CPU, Compression: 6)));
        Assert.Contains("1..5", e.Message);
    }

    /// <summary>The method written out plainly: one sequence, the whole prefix re-run for every new position.</summary>
    static (string Answer, int Steps, bool Stopped) Reference(ReasonerModule model, PromptLayout layout, int[] prompt)
    {
        using var noGrad = torch.no_grad();
        var backbone = model.Backbone;
        var embeds = backbone.Embed(torch.tensor(prompt.Select(t => (long)t).ToArray(), new long[] { 1, prompt.Length }));
        Tensor Last() => backbone.Forward(embeds, torch.ones(1, embeds.shape[1], dtype: ScalarType.Int64),
            torch.arange(embeds.shape[1]).unsqueeze(0))[0, -1];
        bool IsThink(Tensor h) => backbone.Logits(h).argmax().item<long>() == layout.ThinkId;
        void Append(Tensor e) => embeds = torch.cat(new[] { embeds, e.reshape(1, 1, -1) }, 1);

        var h = Last();
        int steps = 0;
        bool stopped = IsThink(h);
        while (!stopped && steps < model.Specification.MaxLatentSteps)
        {
            Append(model.PredictLatent(h).Mean * model.EmbedsStd);
            steps++;
            h = Last();
            stopped = IsThink(h);
        }
        Append(backbone.Embed(torch.tensor(new long[] { layout.ThinkId })));
        var answer = new List<int>();
        for (int t = 0; t < model.Specification.MaxAnswerTokens; t++)
        {
            long next = backbone.Logits(Last()).argmax().item<long>();
            if (next == layout.EosId) break;
            answer.Add((int)next);
            Append(backbone.Embed(torch.tensor(new[] { next })));
        }
        return (layout.Tokenizer.Decode(answer), steps, stopped);
    }
}
