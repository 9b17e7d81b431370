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
