using CoLaR.Evaluation;

namespace CoLaR.Models.Tests;

public class CliTests
{
    [Fact]
    public void List_PrintsEveryDeclaredModelOnItsOwnLine()
    {
        var r = Colar.Run("list");
        Assert.Equal(0, r.ExitCode);
        var names = r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();
        Assert.Contains("CoT", names);
        Assert.Contains("CoLaR", names);
    }

    [Fact]
    public void Train_OnAMalformedDataFile_FailsBeforeTrainingWithFileAndLine()
    {
        var dir = Colar.TempDirectory("bad-data");
        var data = Path.Combine(dir, "train.txt");
        File.WriteAllText(data, "Tom has 3 apples. How many?||<<3+1=4>> #### 4\nA broken line without the separator #### 5\n");
        var r = Colar.Run("train", "--model", "CoT", "--data", data, "--out", Path.Combine(dir, "run"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{data}:2", r.Error);
        Assert.DoesNotContain("   at ", r.Error); // no stack trace for the user
        Assert.False(File.Exists(Path.Combine(dir, "run", "checkpoints", "final.safetensors")));
    }

    [Fact]
    public void Train_WithAnUnknownOption_NamesItAndTheClosestKnownOne()
    {
        var dir = Colar.TempDirectory("bad-option");
        var data = Path.Combine(dir, "train.txt");
        File.WriteAllText(data, "Tom has 3 apples. He buys 1 more. How many apples does Tom have now?||<<3+1=4>> #### 4\n");
        var r = Colar.Run("train", "--model", "CoT", "--data", data, "--out", Path.Combine(dir, "run"), "batchsize=4");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown option 'batchsize'", r.Error);
        Assert.Contains("did you mean 'batch_size'", r.Error);
    }

    [Fact]
    public void RlDemo_WithAnOptionOutOfRange_FailsBeforeLookingForTheDemo()
    {
        // The check comes first: the folder given as --demo does not even exist.
        var dir = Colar.TempDirectory("bad-rl-option");
        var r = Colar.Run("rl-demo", "--demo", Path.Combine(dir, "no-demo-here"), "--out", Path.Combine(dir, "rl"), "latent_std_floor=-1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("latent_std_floor", r.Error);
        Assert.DoesNotContain("not found", r.Error);
    }

    [Fact]
    public void Eval_WithANegativeReasoningBudget_IsRefused()
    {
        var dir = Colar.TempDirectory("bad-budget");
        var r = Colar.Run("eval", "--checkpoint", Path.Combine(dir, "none.safetensors"), "--data", Path.Combine(dir, "none.txt"), "--max-latents", "-1", "--out", Path.Combine(dir, "eval"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--max-latents -1", r.Error);
    }

    [Fact]
    public void Eval_WithAnOptionOutOfRange_FailsBeforeReadingAnyFile()
    {
        var dir = Colar.TempDirectory("bad-eval-option");
        var r = Colar.Run("eval", "--checkpoint", Path.Combine(dir, "none.safetensors"), "--data", Path.Combine(dir, "none.txt"), "--out", Path.Combine(dir, "eval"), "batch_size=0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("option 'batch_size' must be at least 1 (is 0)", r.Error);
        Assert.DoesNotContain("not found", r.Error);
    }

    [Fact]
    public void Export_WithAnUnknownDtype_WritesNothing()
    {
        var dir = Colar.TempDirectory("bad-dtype");
        var merged = Path.Combine(dir, "merged.safetensors");
        var r = Colar.Run("export", "--checkpoint", Path.Combine(dir, "none.safetensors"), "--out", merged, "--hf", Path.Combine(dir, "hf"), "--dtype", "fp8");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--dtype 'fp8' is not fp32, bf16 or fp16", r.Error);
        Assert.False(File.Exists(merged));
    }

    [Fact]
    public void Train_AnUnknownModel_ListsTheDeclaredOnes()
    {
        var dir = Colar.TempDirectory("bad-model");
        var data = Path.Combine(dir, "train.txt");
        File.WriteAllText(data, "Tom has 3 apples. He buys 1 more. How many apples does Tom have now?||<<3+1=4>> #### 4\n");
        var r = Colar.Run("train", "--model", "NoSuchModel", "--data", data, "--out", Path.Combine(dir, "run"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no model named 'NoSuchModel'", r.Error);
        Assert.Contains("CoLaR", r.Error);
    }
}
