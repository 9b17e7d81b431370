using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;

namespace CoLaR.Runs;

/// <summary>Phase names used in <c>metrics.jsonl</c> and as TensorBoard tag prefixes.</summary>
public static class RunPhase
{
    public const string Sft = "sft";
    public const string Rl = "rl";
    public const string Eval = "eval";
}

/// <summary>Options for <see cref="RunLog.Open"/>.</summary>
public sealed record RunLogOptions
{
    /// <summary>Also write TensorBoard event files under <c>DIR/events/</c> (default true).</summary>
    public bool TensorBoard { get; init; } = true;

    /// <summary>
    /// Also fsync after each write, so lines survive a power loss or kernel crash, not only a crash of this process.
    /// Off by default: every write is already flushed to the operating system, which is what a process crash needs.
    /// </summary>
    public bool FlushToDisk { get; init; }

    /// <summary>Where <see cref="RunLog.Info"/>/<see cref="RunLog.Warn"/>/<see cref="RunLog.Error"/> lines are echoed too (e.g. Console.Error); null: file only.</summary>
    public TextWriter? Echo { get; init; }

    /// <summary>Clock for time stamps (tests pass a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The log of one run, kept in its output folder:
/// <list type="bullet">
/// <item><c>metrics.jsonl</c>: one JSON object per line,
/// <c>{"step": 120, "phase": "sft", "time": "2025-06-01T12:00:00.000Z", "loss": 1.234, ...}</c>. Non-finite values
/// are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers, and a NaN loss must not
/// vanish from the record).</item>
/// <item><c>events/</c>: TensorBoard event files written by TorchSharp's SummaryWriter, one scalar per metric
/// tagged <c>phase/name</c> ("sft/loss"). If libtorch cannot be loaded the run goes on without them and
/// <c>run.log</c> says why (<see cref="TensorBoardEnabled"/> is false).</item>
/// <item><c>run.log</c>: time-stamped messages, with full stack traces for exceptions.</item>
/// </list>
/// Every write is flushed before the call returns, so a crash loses nothing already logged. Opening an
/// existing folder appends (a resumed run continues the same files). Thread-safe.
/// </summary>
public sealed class RunLog : IDisposable
{
    /// <summary>The metrics file name inside the run folder.</summary>
    public const string MetricsFileName = "metrics.jsonl";
    /// <summary>The text log file name inside the run folder.</summary>
    public const string TextLogFileName = "run.log";
    /// <summary>The TensorBoard folder name inside the run folder.</summary>
    public const string EventsFolderName = "events";

    static readonly string[] Reserved = ["step", "phase", "time"];

    readonly object _gate = new();
    readonly RunLogOptions _options;
    FileStream _metrics;
    readonly FileStream _text;
    SummaryWriter? _tensorBoard;
    bool _disposed;

    /// <summary>The run folder.</summary>
    public string Directory { get; }
    /// <summary>Full path of <c>metrics.jsonl</c>.</summary>
    public string MetricsPath => Path.Combine(Directory, MetricsFileName);
    /// <summary>Full path of <c>run.log</c>.</summary>
    public string TextLogPath => Path.Combine(Directory, TextLogFileName);
    /// <summary>Full path of the TensorBoard folder (<c>tensorboard --logdir</c> it, or the run folder).</summary>
    public string EventsDirectory => Path.Combine(Directory, EventsFolderName);
    /// <summary>Whether TensorBoard events are being written.</summary>
    public bool TensorBoardEnabled => _tensorBoard is not null;

    RunLog(string directory, RunLogOptions options)
    {
        Directory = directory;
        _options = options;
        System.IO.Directory.CreateDirectory(directory);
        // FileShare.Read: others may tail the files while the run writes them.
        _metrics = new FileStream(MetricsPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        _text = new FileStream(TextLogPath, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    /// <summary>Opens (or continues) the log of the run whose output folder is <paramref name="directory"/>.</summary>
    public static RunLog Open(string directory, RunLogOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var log = new RunLog(Path.GetFullPath(directory), options ?? new RunLogOptions());
        if (log._options.TensorBoard)
        {
            try
            {
                System.IO.Directory.CreateDirectory(log.EventsDirectory);
                log._tensorBoard = torch.utils.tensorboard.SummaryWriter(log.EventsDirectory, null, false);
            }
            catch (Exception e) // libtorch missing or broken: the metrics file still has everything
            {
                log.Warn("TensorBoard events are off: the SummaryWriter could not be created; metrics.jsonl has every metric.", e);
            }
        }
        return log;
    }

    /// <summary>Logs metrics for one step of a phase (see <see cref="RunPhase"/>).</summary>
    /// <exception cref="ArgumentException">A bad phase or metric name, or a name reserved for the line itself (step, phase, time).</exception>
    public void Metrics(string phase, long step, IEnumerable<KeyValuePair<string, double>> values)
    {
        CheckName(phase, nameof(phase));
        ArgumentNullException.ThrowIfNull(values);
        var list = values.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in list)
        {
            CheckName(name, nameof(values));
            if (Reserved.Contains(name)) throw new ArgumentException($"'{name}' is reserved in metrics.jsonl; rename the metric.", nameof(values));
            if (!names.Add(name)) throw new ArgumentException($"Metric '{name}' is given twice.", nameof(values));
        }

        var now = _options.Time.GetUtcNow();
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("step", step);
            json.WriteString("phase", phase);
            json.WriteString("time", FormatTime(now));
            foreach (var (name, value) in list)
            {
                if (double.IsFinite(value)) json.WriteNumber(name, value);
                else json.WriteString(name, double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
            }
            json.WriteEndObject();
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _metrics.Write(buffer.WrittenSpan);
            _metrics.WriteByte((byte)'\n');
            _metrics.Flush(_options.FlushToDisk);
            WriteScalars(phase, step, list, now);
        }
    }

    /// <summary>
    /// For a run resumed at <paramref name="step"/>: cuts <c>metrics.jsonl</c> before its first line of
    /// <paramref name="phase"/> past that step (logged after the state was saved, and about to be logged again), or
    /// before a last line torn by a crash. Lines are appended in step order, so what goes is a tail. TensorBoard
    /// event files are append-only and keep those steps; TensorBoard shows the later values.
    /// </summary>
    /// <returns>How many lines were removed.</returns>
    public int Rewind(string phase, long step)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _metrics.Dispose();
            byte[] bytes = File.ReadAllBytes(MetricsPath);
            long cut = bytes.Length;
            int removed = 0;
            for (int start = 0; start < bytes.Length;)
            {
                int end = Array.IndexOf(bytes, (byte)'\n', start);
                bool complete = end >= 0;
                if (!complete) end = bytes.Length;
                if (cut == bytes.Length && (!complete || IsAfter(bytes.AsSpan(start, end - start), phase, step))) cut = start;
                if (cut < bytes.Length && end > start) removed++;
                start = end + 1;
            }
            if (cut < bytes.Length)
            {
                using var truncate = new FileStream(MetricsPath, FileMode.Open, FileAccess.Write, FileShare.Read);
                truncate.SetLength(cut);
            }
            _metrics = new FileStream(MetricsPath, FileMode.Append, FileAccess.Write, FileShare.Read);
            return removed;
        }
    }

    static bool IsAfter(ReadOnlySpan<byte> line, string phase, long step)
    {
        try
        {
            using var json = JsonDocument.Parse(line.ToArray());
            var root = json.RootElement;
            return root.TryGetProperty("phase", out var p) && p.GetString() == phase
                && root.TryGetProperty("step", out var s) && s.GetInt64() > step;
        }
        catch (JsonException)
        {
            return false; // a complete line that is not ours to judge stays; only a torn last line is cut
        }
    }

    /// <summary>Logs metrics for one step: <c>log.Metrics("sft", 120, ("loss", 1.23), ("acc", 0.5))</c>.</summary>
    public void Metrics(string phase, long step, params (string Name, double Value)[] values) =>
        Metrics(phase, step, values.Select(v => new KeyValuePair<string, double>(v.Name, v.Value)));

    /// <summary>Writes an informational line to <c>run.log</c>.</summary>
    public void Info(string message) => Write("INFO", message, null);

    /// <summary>Writes a warning, with the exception's full text (type, message, stack trace, inner exceptions) when given.</summary>
    public void Warn(string message, Exception? exception = null) => Write("WARN", message, exception);

    /// <summary>Writes an error, with the exception's full text (type, message, stack trace, inner exceptions) when given.</summary>
    public void Error(string message, Exception? exception = null) => Write("ERROR", message, exception);

    void Write(string level, string message, Exception? exception)
    {
        ArgumentNullException.ThrowIfNull(message);
        var sb = new StringBuilder();
        sb.Append(FormatTime(_options.Time.GetUtcNow())).Append(' ').Append(level.PadRight(5)).Append(' ').Append(message).Append('\n');
        if (exception is not null)
        {
            // Exception.ToString() includes inner exceptions and every stack trace; indent so a reader can tell them from log lines.
            foreach (var line in exception.ToString().Split('\n'))
                sb.Append("    ").Append(line.TrimEnd('\r')).Append('\n');
        }
        string text = sb.ToString();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _text.Write(Encoding.UTF8.GetBytes(text));
            _text.Flush(_options.FlushToDisk);
            _options.Echo?.Write(text);
            _options.Echo?.Flush();
        }
    }

    void WriteScalars(string phase, long step, List<KeyValuePair<string, double>> values, DateTimeOffset now)
    {
        if (_tensorBoard is null) return;
        try
        {
            // SummaryWriter takes an int step; a larger one is a bug worth a warning, not a crash.
            int step32 = checked((int)step);
            foreach (var (name, value) in values)
                _tensorBoard.add_scalar($"{phase}/{name}", (float)value, step32, now.ToUnixTimeSeconds());
        }
        catch (Exception e)
        {
            _tensorBoard = null;
            // Inside the lock already: write the warning directly.
            string text = $"{FormatTime(now)} WARN  TensorBoard events stopped at {phase} step {step}; metrics.jsonl goes on.\n    {e.ToString().Replace("\n", "\n    ")}\n";
            _text.Write(Encoding.UTF8.GetBytes(text));
            _text.Flush(_options.FlushToDisk);
        }
    }

    static string FormatTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    static void CheckName(string name, string parameter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameter);
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/'))
                throw new ArgumentException($"'{name}': use letters, digits, '_', '-', '.' or '/' (it becomes a TensorBoard tag).", parameter);
    }

    /// <summary>Closes the files. Everything was already flushed; this only releases the handles.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _metrics.Dispose();
            _text.Dispose();
        }
    }
}
