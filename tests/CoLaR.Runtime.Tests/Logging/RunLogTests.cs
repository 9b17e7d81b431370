using System.Text;
using System.Text.Json;
using CoLaR.Runs;
using Xunit;

namespace CoLaR.Runtime.Tests.Logging;

public sealed class RunLogTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "colar-runlog-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    static string ReadShared(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }

    [Fact]
    public void Crc32c_helper_matches_the_standard_check_value() =>
        Assert.Equal(0xE3069283u, TfRecord.Crc32C("123456789"u8));

    [Fact]
    public void Rewind_cuts_the_steps_after_the_resume_point_and_a_torn_last_line()
    {
        using (var first = RunLog.Open(_dir, new RunLogOptions { TensorBoard = false }))
            foreach (var step in new[] { 10, 20, 30, 40 }) first.Metrics(RunPhase.Sft, step, ("loss", step / 10.0));
        File.AppendAllText(Path.Combine(_dir, RunLog.MetricsFileName), "{\"step\": 50, \"pha"); // a crash mid-write

        using var log = RunLog.Open(_dir, new RunLogOptions { TensorBoard = false });
        Assert.Equal(3, log.Rewind(RunPhase.Sft, 20));
        log.Metrics(RunPhase.Sft, 30, ("loss", 3.5));
        var steps = ReadShared(log.MetricsPath).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => { using var d = JsonDocument.Parse(l); return d.RootElement.GetProperty("step").GetInt64(); });
        Assert.Equal([10L, 20L, 30L], steps);
        Assert.Equal(0, log.Rewind(RunPhase.Sft, 30)); // nothing after: nothing cut
    }

    [Fact]
    public void Metrics_lines_are_json_and_on_disk_before_dispose()
    {
        var time = new FakeTime();
        var log = RunLog.Open(_dir, new RunLogOptions { TensorBoard = false, Time = time });
        log.Metrics(RunPhase.Sft, 10, ("loss", 1.25), ("acc", 0.5));
        time.Advance(1.5);
        log.Metrics(RunPhase.Eval, 20, ("loss", double.NaN), ("grad_norm", double.PositiveInfinity));

        // Not disposed: a crash here must not lose the lines.
        var lines = ReadShared(log.MetricsPath).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            var r = first.RootElement;
            Assert.Equal(["step", "phase", "time", "loss", "acc"], r.EnumerateObject().Select(p => p.Name));
            Assert.Equal(10, r.GetProperty("step").GetInt64());
            Assert.Equal("sft", r.GetProperty("phase").GetString());
            Assert.Equal("2025-06-01T12:00:00.000Z", r.GetProperty("time").GetString());
            Assert.Equal(1.25, r.GetProperty("loss").GetDouble());
        }
        using (var second = JsonDocument.Parse(lines[1]))
        {
            Assert.Equal("2025-06-01T12:00:01.500Z", second.RootElement.GetProperty("time").GetString());
            Assert.Equal("NaN", second.RootElement.GetProperty("loss").GetString());
        }
        log.Dispose();

        var records = MetricsFile.Read(log.MetricsPath);
        Assert.Equal(2, records.Count);
        Assert.True(double.IsNaN(records[1].Values["loss"]));
        Assert.Equal(double.PositiveInfinity, records[1].Values["grad_norm"]);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 12, 0, 1, 500, TimeSpan.Zero), records[1].Time);
        var series = MetricsFile.Series(records, "loss", RunPhase.Sft);
        Assert.Equal([10.0], series.X);
        Assert.Equal([1.25], series.Y);
    }

    [Fact]
    public void Reopening_appends_and_a_torn_last_line_is_skipped()
    {
        using (var log = RunLog.Open(_dir, new RunLogOptions { TensorBoard = false }))
            log.Metrics(RunPhase.Rl, 1, ("reward", 0.25));
        using (var log = RunLog.Open(_dir, new RunLogOptions { TensorBoard = false }))
            log.Metrics(RunPhase.Rl, 2, ("reward", 0.5));
        string path = Path.Combine(_dir, RunLog.MetricsFileName);
        Assert.Equal([0.25, 0.5], MetricsFile.Series(MetricsFile.Read(path), "reward").Y);
        File.AppendAllText(path, "{\"step\": 3, \"pha");
        Assert.Equal(2, MetricsFile.Read(path).Count);
        File.AppendAllText(path, "\n{\"step\": 4, \"phase\": \"rl\", \"time\": \"2025-06-01T12:00:00.000Z\", \"reward\": 1}\n");
        Assert.Throws<InvalidDataException>(() => MetricsFile.Read(path)); // damage in the middle is an error
    }

    [Fact]
    public void Text_log_has_levels_and_full_stack_traces()
    {
        var time = new FakeTime();
        var echo = new StringWriter();
        using var log = RunLog.Open(_dir, new RunLogOptions { TensorBoard = false, Time = time, Echo = echo });
        log.Info("starting sft");
        Exception caught;
        try { Thrower.Outer(); throw new InvalidOperationException("unreachable"); }
        catch (Exception e) { caught = e; }
        log.Error("step 7 failed", caught);

        string text = ReadShared(log.TextLogPath);
        Assert.StartsWith("2025-06-01T12:00:00.000Z INFO  starting sft\n", text);
        Assert.Contains("ERROR step 7 failed\n", text);
        Assert.Contains("System.InvalidOperationException: outer failure", text);
        Assert.Contains("System.ArgumentException: inner cause", text);        // inner exception kept
        Assert.Contains(nameof(Thrower.Inner), text);                          // stack frames kept
        Assert.Contains(nameof(Thrower.Outer), text);
        Assert.Equal(text, echo.ToString());
    }

    [Fact]
    public void Bad_names_are_rejected()
    {
        using var log = RunLog.Open(_dir, new RunLogOptions { TensorBoard = false });
        Assert.Throws<ArgumentException>(() => log.Metrics(RunPhase.Sft, 1, ("step", 1.0)));
        Assert.Throws<ArgumentException>(() => log.Metrics(RunPhase.Sft, 1, ("loss", 1.0), ("loss", 2.0)));
        Assert.Throws<ArgumentException>(() => log.Metrics("s ft", 1, ("loss", 1.0)));
        Assert.Throws<ArgumentException>(() => log.Metrics(RunPhase.Sft, 1, ("lo\"ss", 1.0)));
        Assert.Empty(ReadShared(log.MetricsPath));
    }

    [Fact]
    public void TensorBoard_events_are_valid_tfrecords_with_the_scalars()
    {
        var time = new FakeTime();
        using (var log = RunLog.Open(_dir, new RunLogOptions { Time = time }))
        {
            Assert.True(log.TensorBoardEnabled, ReadShared(log.TextLogPath));
            log.Metrics(RunPhase.Sft, 3, ("loss", 1.5), ("acc", 0.25));
            time.Advance(60);
            log.Metrics(RunPhase.Rl, 4, ("reward", -0.75));
        }
        var files = Directory.GetFiles(Path.Combine(_dir, RunLog.EventsFolderName));
        var file = Assert.Single(files);
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(file));

        var records = TfRecord.ReadRecords(File.ReadAllBytes(file)); // checks both CRCs of every record
        var parsed = records.Select(TfRecord.ParseEvent).ToList();
        Assert.StartsWith("brain.Event:", parsed[0].FileVersion);
        var scalars = parsed.SelectMany(p => p.Scalars).ToList();
        Assert.Equal(
            [("sft/loss", 3L, 1.5f), ("sft/acc", 3L, 0.25f), ("rl/reward", 4L, -0.75f)],
            scalars.Select(s => (s.Tag, s.Step, s.Value)));
        Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds(), (long)scalars[2].WallTime);
    }

    [Fact]
    public void Corrupted_event_file_fails_the_crc_check()
    {
        using (var log = RunLog.Open(_dir))
            log.Metrics(RunPhase.Sft, 1, ("loss", 2.0));
        var file = Directory.GetFiles(Path.Combine(_dir, RunLog.EventsFolderName)).Single();
        var bytes = File.ReadAllBytes(file);
        bytes[^6] ^= 0x01; // flip one bit in the last record's payload
        Assert.Throws<InvalidDataException>(() => TfRecord.ReadRecords(bytes));
    }

    static class Thrower
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void Outer()
        {
            try { Inner(); }
            catch (ArgumentException e) { throw new InvalidOperationException("outer failure", e); }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void Inner() => throw new ArgumentException("inner cause");
    }
}
