using System.Buffers.Binary;
using System.Text;

namespace CoLaR.Models.Tests.Reliability;

/// <summary>One-step CoT and CoLaR runs, trained once for the tests that need a real checkpoint or run folder.</summary>
public sealed class TrainedRuns : IDisposable
{
    public string Directory { get; } = Colar.TempDirectory("bad-input");
    public string Data { get; }
    public string CoTRun => Path.Combine(Directory, "cot");
    public string CoLaRRun => Path.Combine(Directory, "colar");
    public string CoLaRCheckpoint => Path.Combine(CoLaRRun, "checkpoints", "final.safetensors");

    public TrainedRuns()
    {
        Data = Harness.WriteWordProblems(Directory, 40);
        foreach (var (model, outDir) in new[] { ("CoT", CoTRun), ("CoLaR", CoLaRRun) })
        {
            var r = Colar.Run("train", "--model", model, "--data", Data, "--out", outDir, "--steps", "1", "batch_size=4", "threads=2");
            Assert.True(r.ExitCode == 0, r.All);
        }
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Issue 8.3: every kind of bad input ends `colar` with a non-zero exit code and one line naming the file and
/// line (or tensor), no stack trace on the terminal, and the full trace in run.log where a run folder exists.
/// A line without '||' is covered by <see cref="CliTests.Train_OnAMalformedDataFile_FailsBeforeTrainingWithFileAndLine"/>.
/// </summary>
public class BadInputTests(TrainedRuns runs) : IClassFixture<TrainedRuns>
{
    static Colar.Result Train(string data, string outDir, params string[] options) =>
        Colar.Run(["train", "--model", "CoT", "--data", data, "--out", outDir, "--steps", "1", "batch_size=2", "threads=2", .. options]);

    /// <summary>A data file with one good record, then the bad one on the line given.</summary>
    [Theory]
    [InlineData("txt", "Tom has 3 apples. How many?||<<3+1=4>> 4", 2, "missing '####' before the answer")]
    [InlineData("txt", "Tom has 3 apples. How many?|| #### 4", 2, "empty reasoning between '||' and '####'; pass empty_reasoning=skip")]
    [InlineData("txt", "Tom has 3 apples. How many?||<<3+1=4>> #### four", 2, "answer 'four' is not a number")]
    [InlineData("json", "{\"question\": \"How many?\",\n  \"steps\": [\"<<3+1=4>>\"]}", 3, "the object has no 'answer' field")]
    [InlineData("json", "{\"question\": \"How many?\",\n  \"steps\": \"<<3+1=4>>\", \"answer\": \"4\"}", 4, "field 'steps' must be an array of strings, found a string")]
    [InlineData("jsonl", "{\"question\": 7, \"steps\": [\"<<3+1=4>>\"], \"answer\": \"4\"}", 2, "field 'question' must be a string, found a number")]
    [InlineData("jsonl", "{\"question\": \"How many?\", \"steps\": [], \"answer\": \"4\"}", 2, "empty reasoning: 'steps' has no elements")]
    public void BadDataRecord_NamesFileAndLine(string format, string badRecord, int line, string problem)
    {
        var dir = Colar.TempDirectory("bad-record");
        var data = Path.Combine(dir, "train." + format);
        const string good = "{\"question\": \"Tom has 3 apples. He buys 1 more. How many?\", \"steps\": [\"<<3+1=4>>\"], \"answer\": \"4\"}";
        File.WriteAllText(data, format switch
        {
            "txt" => Harness.GoodLine + "\n" + badRecord + "\n",
            "json" => "[\n " + good + ",\n " + badRecord + "\n]\n",
            _ => good + "\n" + badRecord + "\n",
        });
        var error = Harness.AssertCleanFailure(Train(data, Path.Combine(dir, "run")));
        Assert.Equal($"error: {data}:{line}: {problem}", error[..Math.Min(error.Length, $"error: {data}:{line}: {problem}".Length)]);
        Assert.False(Directory.Exists(Path.Combine(dir, "run")), "a run folder was made for data that cannot be used");
    }

    [Fact]
    public void EmptyReasoning_CanBeSkippedOrKeptForTraining_AndEvaluationAcceptsIt()
    {
        var dir = Colar.TempDirectory("empty-reasoning");
        var data = Path.Combine(dir, "train.txt");
        File.WriteAllText(data, Harness.GoodLine + "\n" + Harness.GoodLine + "\nTom has 3 apples. How many?|| #### 3\n");
        foreach (var policy in new[] { "skip", "keep" })
        {
            var r = Train(data, Path.Combine(dir, policy), "empty_reasoning=" + policy);
            Assert.True(r.ExitCode == 0, r.All);
            Assert.Contains($"\"empty_reasoning\": \"{policy}\"", File.ReadAllText(Path.Combine(dir, policy, "config.json")));
        }
        var eval = Colar.Run("eval", "--checkpoint", runs.CoLaRCheckpoint, "--data", data, "--out", Path.Combine(dir, "eval"), "--seeds", "1", "--compression", "2");
        Assert.True(eval.ExitCode == 0, eval.All);
    }

    [Fact]
    public void TooLongSequence_IsRejectedByDefault_WithTheCountAndTheLongest()
    {
        var dir = Colar.TempDirectory("too-long");
        var data = Path.Combine(dir, "train.txt");
        File.WriteAllText(data, $"{Harness.GoodLine}\n{Harness.GoodLine}\n{LongQuestion}\n{Harness.GoodLine}\n");
        var outDir = Path.Combine(dir, "run");
        var error = Harness.AssertCleanFailure(Train(data, outDir));
        Assert.Contains("1 of 4 samples are longer than TinyLlama.MaxPositions (256)", error);
        Assert.Contains($"the longest ({data}:3) has", error);
        Assert.Contains("too_long=skip or too_long=truncate", error);
        Harness.AssertTraceLogged(outDir, "samples are longer than");
        Assert.False(File.Exists(Path.Combine(outDir, "checkpoints", "final.safetensors")));
    }

    [Theory]
    [InlineData("skip", "; skipped them (too_long=skip), 3 remain")]
    [InlineData("truncate", "; truncated them by dropping")]
    public void TooLongSequence_SkippedOrTruncatedByOption_IsReportedWithTheCount(string policy, string report)
    {
        var dir = Colar.TempDirectory("too-long-" + policy);
        var data = Path.Combine(dir, "train.txt");
        // Long reasoning: truncation can make it fit by dropping leading steps.
        var longReasoning = "Tom has 3 apples. How many?||" + string.Join(" ", Enumerable.Repeat("<<3+1=4>>", 40)) + " #### 4";
        File.WriteAllText(data, $"{Harness.GoodLine}\n{Harness.GoodLine}\n{longReasoning}\n{Harness.GoodLine}\n");
        var r = Train(data, Path.Combine(dir, "run"), "too_long=" + policy);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains($"1 of 4 samples are longer than TinyLlama.MaxPositions (256); the longest ({data}:3)", r.Output);
        Assert.Contains(report, r.Output);
        Assert.Contains(report, File.ReadAllText(Path.Combine(dir, "run", "run.log")));
    }

    [Fact]
    public void CompressionOutsideTheTrainedRange_AtInference_NamesTheRangeAndCheckpoint()
    {
        var r = Colar.Run("infer", "--checkpoint", runs.CoLaRCheckpoint, "--compression", "9", "Tom has 3 apples. How many?");
        var error = Harness.AssertCleanFailure(r);
        Assert.Contains("--compression 9 is outside the range CoLaR was trained on (1..5", error);
        Assert.Contains(runs.CoLaRCheckpoint, error);
    }

    [Fact]
    public void CompressionOutsideTheTrainedRange_InTraining_IsRefused()
    {
        var dir = Colar.TempDirectory("bad-compression");
        var outDir = Path.Combine(dir, "run");
        var r = Colar.Run("train", "--model", "CoLaR", "--data", runs.Data, "--out", outDir, "--steps", "1", "threads=2", "compression=9");
        var error = Harness.AssertCleanFailure(r);
        Assert.Contains("compression=9 is outside the range CoLaR trains (1..5)", error);
        Harness.AssertTraceLogged(outDir, "compression=9");
    }

    [Fact]
    public void CheckpointOfAnotherSpec_IsRefusedNamingBothSpecs()
    {
        // Resuming a CoT run folder as CoLaR: its training state was saved from another spec.
        var outDir = Path.Combine(Colar.TempDirectory("other-spec"), "run");
        foreach (var file in Directory.GetFiles(runs.CoTRun, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(outDir, Path.GetRelativePath(runs.CoTRun, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        var r = Colar.Run("train", "--model", "CoLaR", "--data", runs.Data, "--out", outDir, "--steps", "1", "threads=2");
        var error = Harness.AssertCleanFailure(r);
        Assert.Contains(Path.Combine(outDir, "state", "training-state.safetensors"), error);
        Assert.Contains("was saved from spec 'CoT'", error);
        Assert.Contains("but the model is 'CoLaR'", error);
        Assert.Contains("train into a new --out", error);
        Harness.AssertTraceLogged(outDir, "was saved from spec 'CoT'");
    }

    /// <summary>Safetensors files whose header lies about sizes or offsets: refused, naming the file and the tensor.</summary>
    [Theory]
    [InlineData("offsets-past-the-data", "tensor 'model.norm.weight' claims bytes 0..512 but the file's data region has 100 bytes")]
    [InlineData("shape-disagrees-with-offsets", "shape [128] of F32 needs 512 bytes but data_offsets 0..100 span 100")]
    [InlineData("header-length-past-the-file", "the header length field says")]
    public void LyingSafetensorsHeader_IsRefusedNamingTheTensor(string lie, string expected)
    {
        var dir = Colar.TempDirectory("lying-header");
        var path = Path.Combine(dir, lie + ".safetensors");
        var (shape, end, data, lengthDelta) = lie switch
        {
            "offsets-past-the-data" => ("[128]", 512, 100, 0),
            "shape-disagrees-with-offsets" => ("[128]", 100, 100, 0),
            _ => ("[25]", 100, 100, 1000),
        };
        var header = Encoding.UTF8.GetBytes(
            $"{{\"__metadata__\":{{\"colar.spec\":\"CoT\"}},\"model.norm.weight\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[0,{end}]}}}}");
        var bytes = new byte[8 + header.Length + data];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(header.Length + lengthDelta));
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);

        var error = Harness.AssertCleanFailure(Colar.Run("infer", "--checkpoint", path, "How many?"));
        Assert.Contains(path, error);
        Assert.Contains(expected, error);
    }

    /// <summary>A JSON config file with a mistyped or unknown field: the file and line of the field.</summary>
    [Theory]
    [InlineData("{\n  \"steps\": 2,\n  \"batch_size\": \"many\"\n}", 3, "option 'batch_size' (CONFIG:3): 'many' is not a valid whole number")]
    [InlineData("{\n  \"learning_rate\": true\n}", 2, "option 'learning_rate' (CONFIG:2): 'true' is not a valid finite number")]
    [InlineData("{\n  \"steps\": 2,\n  \"too_long\": \"sometimes\"\n}", 3, "option 'too_long' (CONFIG:3): 'sometimes' is not a valid value (reject, skip, truncate)")]
    [InlineData("{\n  \"steps\": 2,\n  \"batchsize\": 4\n}", 3, "unknown option 'batchsize' (CONFIG:3); did you mean 'batch_size'?")]
    [InlineData("{\n  \"steps\": 2\n  \"seed\": 1\n}", 3, "CONFIG:3: not valid JSON")]
    public void BadConfigFile_NamesFileAndLine(string json, int line, string expected)
    {
        var dir = Colar.TempDirectory("bad-config");
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, json);
        var r = Colar.Run("train", "--model", "CoT", "--data", runs.Data, "--out", Path.Combine(dir, "run"), "--config", config, "threads=2");
        var error = Harness.AssertCleanFailure(r);
        Assert.Contains(expected.Replace("CONFIG", config), error);
        Assert.Contains($"{config}:{line}", error);
    }

    [Fact]
    public void MissingRequiredArgument_FailsWithoutAStackTrace()
    {
        var r = Colar.Run("train", "--model", "CoT");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--data", r.Error);
        Assert.DoesNotContain("   at ", r.All);
    }

    static string LongQuestion => string.Concat(Enumerable.Repeat("Tom has 3 apples. ", 40)) + "How many?||<<3+1=4>> #### 4";
}
