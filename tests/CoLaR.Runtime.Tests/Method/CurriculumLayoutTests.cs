using CoLaR.Text;
using CoLaR.Data;
using CoLaR.Training;

namespace CoLaR.Runtime.Tests.Method;

/// <summary>What iCoT trains on at each curriculum stage, against the prompt inference uses.</summary>
public class CurriculumLayoutTests
{
    static readonly EncodedSample TwoSteps = MethodFixture.Layout.Encode(new Sample("Ann has 2 pens. She buys 3 more. She doubles them. How many?",
        new[] { "<<2+3=5>>", "<<5*2=10>>" }, "10"));

    [Fact]
    public void EachStage_DropsOneMoreLeadingStep_AndTheOpeningThinkTokenAlwaysStays()
    {
        using var model = new MethodICoT();
        var layout = MethodFixture.Layout;
        int think = layout.ThinkId;
        var sep = layout.StepSeparator;
        Assert.Equal(new[] { think }.Concat(TwoSteps.Steps[0]).Concat(sep).Concat(TwoSteps.Steps[1]),
            Objectives.ChainOfThoughtReasoning(model.Specification, layout, TwoSteps, stage: 0));
        Assert.Equal(new[] { think }.Concat(TwoSteps.Steps[1]),
            Objectives.ChainOfThoughtReasoning(model.Specification, layout, TwoSteps, stage: 1));
        // Final stage (and beyond): no step left, but still "###", so the answer's own "###" closes it at once.
        Assert.Equal(new[] { think }, Objectives.ChainOfThoughtReasoning(model.Specification, layout, TwoSteps, stage: 2));
        Assert.Equal(new[] { think }, Objectives.ChainOfThoughtReasoning(model.Specification, layout, TwoSteps, stage: 7));
    }

    [Fact]
    public void TheInferencePrompt_IsAPrefixOfEveryStagesTrainingSequence()
    {
        // Inference prompts "question ###" and reads reasoning up to the next ###; training must agree at every stage.
        using var model = new MethodICoT();
        var layout = MethodFixture.Layout;
        var prompt = layout.Prompt(TwoSteps, compression: null, withSpeed: false);
        foreach (var stage in new[] { 0, 1, 2 })
        {
            var sequence = TwoSteps.Question.Concat(Objectives.ChainOfThoughtReasoning(model.Specification, layout, TwoSteps, stage)).Concat(TwoSteps.Answer).ToArray();
            Assert.Equal(prompt, sequence.Take(prompt.Length));
            Assert.Equal(layout.ThinkId, TwoSteps.Answer[0]); // the answer opens with the closing ###
        }
    }
}
