using System.Text.RegularExpressions;
using CoLaR.Checkpoints;
using CoLaR.Data;
using CoLaR.Native;
using TorchSharp;

namespace CoLaR.Models.Tests.Reliability;

/// <summary>What the reliability tests share: small data files, assertions on failures, bitwise checkpoint comparison.</summary>
public static partial class Harness
{
    /// <summary>A well-formed GSM8k-Aug line.</summary>
    public const string GoodLine = "Tom has 3 apples. He buys 1 more. How many apples does Tom have now?||<<3+1=4>> #### 4";

    /// <summary>Seeded synthetic word problems in GSM8k-Aug text format.</summary>
    public static string WriteWordProblems(string directory, int count, int seed = 1)
    {
        var path = Path.Combine(directory, "train.txt");
        DatasetWriter.Write(path, SyntheticData.WordProblems(count, new WordProblemOptions { MinSteps = 2, MaxSteps = 3, MaxOperand = 20, MaxFactor = 3, MaxValue = 99 }, seed));
        return path;
    }

    /// <summary>
    /// A failure a user can act on: the expected exit code, one line on stderr starting "error:", no stack trace
    /// anywhere on the terminal, no partial final checkpoint.
    /// </summary>
    public static string AssertCleanFailure(Colar.Result r, int exitCode = 2)
    {
        Assert.True(r.ExitCode == exitCode, $"exit code {r.ExitCode}, expected {exitCode}\n{r.All}");
        Assert.DoesNotContain("   at ", r.All);
        Assert.DoesNotContain("Exception:", r.Error);
        var lines = r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var error = Assert.Single(lines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.DoesNotContain("unexpected", error); // a bug caught by the safety net is not a clear error
        return error;
    }

    /// <summary>The run folder's run.log holds the full stack trace of the failure.</summary>
    public static void AssertTraceLogged(string runDirectory, string messagePart)
    {
        var log = File.ReadAllText(Path.Combine(runDirectory, "run.log"));
        Assert.Contains(messagePart, log);
        Assert.Contains("   at ", log);
    }

    /// <summary>The highest N of a "checkpoint at step N" (SFT) or "checkpoint at iteration N" (RL) line in a run's log (0 when none).</summary>
    public static int LastCheckpointStep(string runDirectory)
    {
        var path = Path.Combine(runDirectory, "run.log");
        if (!File.Exists(path)) return 0;
        string text;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            text = new StreamReader(stream).ReadToEnd();
        }
        catch (IOException) { return 0; }
        return CheckpointLine().Matches(text).Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max();
    }

    [GeneratedRegex(@"checkpoint at (?:step|iteration) (\d+)")]
    private static partial Regex CheckpointLine();

    /// <summary>Two checkpoints hold the same tensor names, dtypes, shapes and bytes.</summary>
    public static void AssertBitwiseEqual(string expectedPath, string actualPath)
    {
        TorchNative.EnsureLoaded();
        using var expected = Checkpoint.Load(expectedPath);
        using var actual = Checkpoint.Load(actualPath);
        Assert.Equal(expected.Names.Order(StringComparer.Ordinal), actual.Names.Order(StringComparer.Ordinal));
        foreach (var name in expected.Names)
        {
            var (a, b) = (expected[name], actual[name]);
            Assert.Equal(a.dtype, b.dtype);
            Assert.Equal(a.shape, b.shape);
            Assert.True(Bytes(a).AsSpan().SequenceEqual(Bytes(b)), $"tensor '{name}' differs between {expectedPath} and {actualPath}");
        }
    }

    /// <summary>True when some tensor of the two checkpoints differs (training changed the weights).</summary>
    public static bool AnyTensorDiffers(string pathA, string pathB)
    {
        TorchNative.EnsureLoaded();
        using var a = Checkpoint.Load(pathA);
        using var b = Checkpoint.Load(pathB);
        return a.Names.Any(name => !Bytes(a[name]).AsSpan().SequenceEqual(Bytes(b[name])));
    }

    static byte[] Bytes(torch.Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var c = t.detach().cpu().contiguous();
        return c.numel() == 0 ? [] : c.bytes.ToArray();
    }

    /// <summary>Starts `colar` and drains its output, so a chatty child never blocks on a full pipe.</summary>
    public static (System.Diagnostics.Process Process, Task<string> Output, Task<string> Error) StartDrained(params string[] args)
    {
        var process = Colar.Start(args);
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }
}
