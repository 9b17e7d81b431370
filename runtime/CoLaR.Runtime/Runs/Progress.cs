using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace CoLaR.Runs;

/// <summary>How <see cref="Progress"/> shows itself.</summary>
public enum ProgressMode
{
    /// <summary>Interactive when stdout is a terminal that supports it (and CI is not set, TERM is not "dumb"); else plain.</summary>
    Auto,
    /// <summary>A live Spectre.Console bar with rate, ETA and the status text.</summary>
    Interactive,
    /// <summary>Plain text lines, one every <see cref="ProgressOptions.Interval"/> or <see cref="ProgressOptions.PercentStep"/>: safe for logs and pipes.</summary>
    Plain,
    /// <summary>Nothing is shown (counters still work).</summary>
    Silent,
}

/// <summary>Options for <see cref="Progress.Start"/>.</summary>
public sealed record ProgressOptions
{
    /// <summary>Display mode (default <see cref="ProgressMode.Auto"/>).</summary>
    public ProgressMode Mode { get; init; } = ProgressMode.Auto;
    /// <summary>Where plain lines go (default Console.Out).</summary>
    public TextWriter? Output { get; init; }
    /// <summary>The console for the interactive bar (default AnsiConsole.Console).</summary>
    public IAnsiConsole? Console { get; init; }
    /// <summary>Plain mode: print at least this often while advancing (default 30 s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Plain mode: also print each time another this-many percent is done (default 10; 0 turns it off).</summary>
    public double PercentStep { get; init; } = 10;
    /// <summary>Clock (tests pass a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Items already done before this start (a resumed run): counted as done, not in the rate or ETA.</summary>
    public long AlreadyDone { get; init; }
}

/// <summary>
/// Progress of a long phase (training epochs, evaluation over a test set):
/// <code>using var p = Progress.Start("train", total: 600);
/// for (...) { ...; p.Advance(1, $"loss {loss:F3}"); }</code>
/// On an interactive terminal it draws a Spectre.Console bar; otherwise (CI, redirected output, tests) it prints
/// plain lines without colours, cursor movement or carriage returns, e.g.
/// <c>train  120/600  20%  3.1 it/s  ETA 02:35  loss 1.234</c>. The rate is the average since the start
/// (items per second, or seconds per item below 1 it/s) over the items done since then, so a resumed run's
/// earlier items (<see cref="ProgressOptions.AlreadyDone"/>) do not inflate it; the ETA is the remaining items at that rate.
/// Only one interactive bar can be live at a time; a second one started meanwhile prints plain lines.
/// Thread-safe.
/// </summary>
public sealed class Progress : IDisposable
{
    static int s_interactiveLive;

    readonly object _gate = new();
    readonly ProgressOptions _options;
    readonly TimeProvider _time;
    readonly long _start;
    readonly TextWriter? _plain;
    SpectreView? _view;
    long _done;
    readonly long _baseline;
    string? _status;
    long _lastPrintTimestamp;
    long _lastPrintedDone;
    long _lastBucket;
    bool _disposed;

    /// <summary>The phase name shown first on each line.</summary>
    public string Name { get; }
    /// <summary>Items to do; 0 when unknown.</summary>
    public long Total { get; }
    /// <summary>The mode in use (never <see cref="ProgressMode.Auto"/>).</summary>
    public ProgressMode Mode { get; private set; }

    Progress(string name, long total, ProgressOptions options)
    {
        Name = name;
        Total = total;
        _options = options;
        _time = options.Time;
        _start = _time.GetTimestamp();
        _lastPrintTimestamp = _start;
        _done = _baseline = _lastPrintedDone = options.AlreadyDone;
        Mode = Resolve(options);
        if (Mode == ProgressMode.Interactive)
        {
            if (Interlocked.CompareExchange(ref s_interactiveLive, 1, 0) == 0)
            {
                _view = SpectreView.TryStart(this, options.Console ?? AnsiConsole.Console);
                if (_view is null) Interlocked.Exchange(ref s_interactiveLive, 0);
            }
            if (_view is null) Mode = ProgressMode.Plain;
        }
        if (Mode == ProgressMode.Plain) _plain = options.Output ?? System.Console.Out;
    }

    /// <summary>Starts showing progress of <paramref name="total"/> items (0 if unknown) named <paramref name="name"/>.</summary>
    public static Progress Start(string name, long total, ProgressOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        options ??= new ProgressOptions();
        if (options.Interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "Interval must be positive.");
        if (!(options.PercentStep >= 0)) throw new ArgumentOutOfRangeException(nameof(options), "PercentStep must be ≥ 0.");
        if (options.AlreadyDone < 0 || (total > 0 && options.AlreadyDone > total)) throw new ArgumentOutOfRangeException(nameof(options), "AlreadyDone must be in [0, total].");
        return new Progress(name, total, options);
    }

    /// <summary>Items done so far.</summary>
    public long Done { get { lock (_gate) return _done; } }
    /// <summary>The live metric text ("loss 1.234  acc 0.50"), if any.</summary>
    public string? Status { get { lock (_gate) return _status; } }
    /// <summary>Time since <see cref="Start"/>.</summary>
    public TimeSpan Elapsed => _time.GetElapsedTime(_start);

    /// <summary>Marks <paramref name="count"/> more items done and, when given, replaces the status text.</summary>
    public void Advance(long count = 1, string? status = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _done += count;
            if (status is not null) _status = status;
            if (_plain is not null) MaybePrint();
        }
    }

    /// <summary>Replaces the status text without advancing (shown with the next line or redraw).</summary>
    public void SetStatus(string? status)
    {
        lock (_gate) _status = status;
    }

    /// <summary>The current state as one plain line.</summary>
    public string Line()
    {
        lock (_gate) return FormatLine(Name, _done, Total, Elapsed, _status, _baseline);
    }

    /// <summary>
    /// Formats a plain progress line: name, done/total, percent, rate, then "ETA mm:ss" while unfinished or
    /// "took mm:ss" once done (or always "took" when the total is unknown), then the status. Fields are
    /// separated by two spaces; durations are h:mm:ss from one hour on.
    /// </summary>
    public static string FormatLine(string name, long done, long total, TimeSpan elapsed, string? status, long baseline = 0)
    {
        var parts = new List<string>(6) { name };
        double seconds = elapsed.TotalSeconds;
        double? rate = done > baseline && seconds > 0 ? (done - baseline) / seconds : null;
        if (total > 0)
        {
            parts.Add($"{done}/{total}");
            parts.Add($"{Math.Clamp(done * 100 / total, 0, 100)}%");
        }
        else
            parts.Add(done.ToString(CultureInfo.InvariantCulture));
        parts.Add(FormatRate(rate));
        if (total > 0 && done < total)
            parts.Add("ETA " + (rate is { } r ? FormatDuration(TimeSpan.FromSeconds((total - done) / r)) : "--:--"));
        else
            parts.Add("took " + FormatDuration(elapsed));
        if (!string.IsNullOrWhiteSpace(status)) parts.Add(status.Trim());
        return string.Join("  ", parts);
    }

    /// <summary>"3.1 it/s", "2.5 s/it" below one item per second, "-- it/s" before the first item.</summary>
    public static string FormatRate(double? itemsPerSecond) => itemsPerSecond switch
    {
        null or <= 0 or double.NaN => "-- it/s",
        >= 1 => itemsPerSecond.Value.ToString("0.0", CultureInfo.InvariantCulture) + " it/s",
        _ => (1 / itemsPerSecond.Value).ToString("0.0", CultureInfo.InvariantCulture) + " s/it",
    };

    /// <summary>"02:35", or "1:02:35" from one hour on (rounded to whole seconds).</summary>
    public static string FormatDuration(TimeSpan span)
    {
        long total = (long)Math.Round(Math.Max(0, span.TotalSeconds), MidpointRounding.AwayFromZero);
        long h = total / 3600, m = total / 60 % 60, s = total % 60;
        return h > 0 ? $"{h}:{m:00}:{s:00}" : $"{m:00}:{s:00}";
    }

    // Plain mode: a line when another PercentStep is done, when Interval has passed, and at completion.
    void MaybePrint()
    {
        long now = _time.GetTimestamp();
        bool complete = Total > 0 && _done >= Total && _lastPrintedDone < Total;
        long bucket = Total > 0 && _options.PercentStep > 0
            ? (long)Math.Floor(Math.Min(_done, Total) * 100.0 / (Total * _options.PercentStep) + 1e-9)
            : 0;
        bool crossed = bucket > _lastBucket;
        bool due = _time.GetElapsedTime(_lastPrintTimestamp, now) >= _options.Interval;
        if (!(complete || crossed || due)) return;
        Print(now);
        _lastBucket = bucket;
    }

    void Print(long now)
    {
        _plain!.WriteLine(FormatLine(Name, _done, Total, _time.GetElapsedTime(_start, now), _status, _baseline));
        _plain.Flush();
        _lastPrintTimestamp = now;
        _lastPrintedDone = _done;
    }

    /// <summary>Stops the display: the bar is left at its final state; plain mode prints the final line if it has not yet.</summary>
    public void Dispose()
    {
        SpectreView? view;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_plain is not null && _done != _lastPrintedDone) Print(_time.GetTimestamp());
            view = _view;
            _view = null;
        }
        if (view is not null)
        {
            view.Stop();
            Interlocked.Exchange(ref s_interactiveLive, 0);
        }
    }

    static ProgressMode Resolve(ProgressOptions options)
    {
        if (options.Mode != ProgressMode.Auto) return options.Mode;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) return ProgressMode.Plain;
        if (Environment.GetEnvironmentVariable("TERM") == "dumb") return ProgressMode.Plain;
        if (options.Console is null && System.Console.IsOutputRedirected) return ProgressMode.Plain;
        var caps = (options.Console ?? AnsiConsole.Console).Profile.Capabilities;
        return caps.Interactive && caps.Ansi ? ProgressMode.Interactive : ProgressMode.Plain;
    }

    /// <summary>A Spectre.Console live progress display driven from a background thread.</summary>
    sealed class SpectreView
    {
        readonly Progress _owner;
        readonly ManualResetEventSlim _ready = new();
        volatile bool _stop;
        Thread? _thread;
        Exception? _failure;
        bool _started;

        SpectreView(Progress owner) => _owner = owner;

        public static SpectreView? TryStart(Progress owner, IAnsiConsole console)
        {
            var view = new SpectreView(owner);
            view._thread = new Thread(() => view.Run(console)) { IsBackground = true, Name = $"progress {owner.Name}" };
            view._thread.Start();
            view._ready.Wait();
            if (view._started) return view;
            view._thread.Join();
            return null; // e.g. another live display is running: the caller falls back to plain lines
        }

        void Run(IAnsiConsole console)
        {
            try
            {
                var p = _owner;
                console.Progress()
                    .AutoClear(false)
                    .HideCompleted(false)
                    .Columns(
                        new TaskDescriptionColumn { Alignment = Justify.Left },
                        new ProgressBarColumn(),
                        new PercentageColumn(),
                        new TextColumn(() => FormatRate(p.Done - p._baseline is > 0 and var d && p.Elapsed.TotalSeconds > 0 ? d / p.Elapsed.TotalSeconds : null)),
                        new TextColumn(() => Remaining(p)),
                        new TextColumn(() => p.Status ?? ""))
                    .Start(ctx =>
                    {
                        // The name is shown through markup: escape it so "[x]" is text, not a style.
                        var task = ctx.AddTask(Markup.Escape(p.Name), autoStart: true, maxValue: Math.Max(1, p.Total));
                        task.IsIndeterminate = p.Total == 0;
                        _started = true;
                        _ready.Set();
                        while (true)
                        {
                            bool stop = _stop;
                            task.Value = p.Total > 0 ? Math.Min(p.Done, p.Total) : 0;
                            ctx.Refresh();
                            if (stop) break;
                            Thread.Sleep(100);
                        }
                    });
            }
            catch (Exception e)
            {
                _failure = e;
            }
            finally
            {
                _ready.Set();
            }
        }

        static string Remaining(Progress p)
        {
            long done = p.Done;
            var elapsed = p.Elapsed;
            if (p.Total == 0 || done >= p.Total) return "took " + FormatDuration(elapsed);
            long fresh = done - p._baseline;
            if (fresh <= 0 || elapsed <= TimeSpan.Zero) return "ETA --:--";
            return "ETA " + FormatDuration(TimeSpan.FromSeconds((p.Total - done) * elapsed.TotalSeconds / fresh));
        }

        public void Stop()
        {
            _stop = true;
            _thread?.Join();
            if (_failure is not null)
                System.Diagnostics.Debug.WriteLine($"progress display failed: {_failure}");
        }
    }

    /// <summary>A column that shows plain text computed at each redraw (no markup is parsed).</summary>
    sealed class TextColumn(Func<string> text) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => new Spectre.Console.Text(text());
    }
}
