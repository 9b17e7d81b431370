using CoLaR.Runs;
using Spectre.Console;
using Progress = CoLaR.Runs.Progress;
using Xunit;

namespace CoLaR.Runtime.Tests.Logging;

public class ProgressTests
{
    static (Progress P, StringWriter Out, FakeTime Time) Plain(long total, double percentStep = 10, double intervalSeconds = 3600)
    {
        var time = new FakeTime();
        var output = new StringWriter();
        var p = Progress.Start("train", total, new ProgressOptions
        {
            Mode = ProgressMode.Plain, Output = output, Time = time,
            PercentStep = percentStep, Interval = TimeSpan.FromSeconds(intervalSeconds),
        });
        return (p, output, time);
    }

    static string[] Lines(StringWriter w) => w.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Line_format_matches_the_documented_example()
    {
        // 120 of 600 done at 3.1 it/s: 480 left take 154.8 s.
        Assert.Equal("train  120/600  20%  3.1 it/s  ETA 02:35  loss 1.234",
            Progress.FormatLine("train", 120, 600, TimeSpan.FromSeconds(120 / 3.1), "loss 1.234"));
        Assert.Equal("train  600/600  100%  3.1 it/s  took 03:14",
            Progress.FormatLine("train", 600, 600, TimeSpan.FromSeconds(600 / 3.1), null));
        Assert.Equal("eval  0/50  0%  -- it/s  ETA --:--",
            Progress.FormatLine("eval", 0, 50, TimeSpan.FromSeconds(3), "  "));
        Assert.Equal("rl  7  2.5 s/it  took 00:18  reward 0.31",
            Progress.FormatLine("rl", 7, 0, TimeSpan.FromSeconds(17.5), "reward 0.31"));
        Assert.Equal("1:02:05", Progress.FormatDuration(TimeSpan.FromSeconds(3725)));
        Assert.Equal("00:00", Progress.FormatDuration(TimeSpan.FromSeconds(-4)));
    }

    [Fact]
    public void A_resumed_run_counts_earlier_items_as_done_but_not_in_its_rate()
    {
        // 100 of 200 steps were done by an earlier process; this one does 10 in 10 s: 1.0 it/s, 90 left.
        var time = new FakeTime();
        var output = new StringWriter();
        using var p = Progress.Start("sft", 200, new ProgressOptions { Mode = ProgressMode.Plain, Output = output, Time = time, AlreadyDone = 100 });
        Assert.Equal(100, p.Done);
        time.Advance(10);
        p.Advance(10);
        Assert.Equal("sft  110/200  55%  1.0 it/s  ETA 01:30", p.Line());
        Assert.Throws<ArgumentOutOfRangeException>(() => Progress.Start("sft", 200, new ProgressOptions { AlreadyDone = 201 }));
    }

    [Fact]
    public void Plain_mode_prints_once_per_percent_step_and_at_the_end()
    {
        var (p, output, time) = Plain(total: 100);
        for (int i = 0; i < 100; i++)
        {
            time.Advance(0.5);
            p.Advance(1, $"loss {1.0 / (i + 1):F3}");
        }
        p.Dispose();
        var lines = Lines(output);
        Assert.Equal(10, lines.Length);
        Assert.Equal("train  10/100  10%  2.0 it/s  ETA 00:45  loss 0.100", lines[0]);
        Assert.Equal("train  100/100  100%  2.0 it/s  took 00:50  loss 0.010", lines[^1]);
        // Nothing a terminal would interpret: no carriage returns, no escape sequences.
        Assert.DoesNotContain('\r', output.ToString().Replace(Environment.NewLine, "\n"));
        Assert.DoesNotContain('\u001b', output.ToString());
    }

    [Fact]
    public void Plain_mode_prints_every_interval_between_percent_steps()
    {
        var (p, output, time) = Plain(total: 1000, percentStep: 0, intervalSeconds: 10);
        for (int i = 0; i < 10; i++)
        {
            time.Advance(3);
            p.Advance();
        }
        var lines = Lines(output);
        // Due after 12 s (step 4) and 24 s (step 8): the clock restarts at each print.
        Assert.Equal(["train  4/1000  0%  3.0 s/it", "train  8/1000  0%  3.0 s/it"], lines.Select(l => l[..l.IndexOf("  ETA", StringComparison.Ordinal)]));
        p.Dispose();
        Assert.Equal("train  10/1000  1%  3.0 s/it  ETA 49:30", Lines(output)[^1]);
    }

    [Fact]
    public void Dispose_prints_an_unfinished_state_once_and_advance_after_dispose_throws()
    {
        var (p, output, time) = Plain(total: 100);
        time.Advance(1);
        p.Advance(3, "loss 2.000");
        Assert.Empty(output.ToString());
        p.Dispose();
        p.Dispose();
        Assert.Equal(["train  3/100  3%  3.0 it/s  ETA 00:32  loss 2.000"], Lines(output));
        Assert.Throws<ObjectDisposedException>(() => p.Advance());
    }

    [Fact]
    public void Status_and_counters_are_kept_in_silent_mode()
    {
        using var p = Progress.Start("eval", 10, new ProgressOptions { Mode = ProgressMode.Silent });
        p.Advance(4, "acc 0.50");
        p.SetStatus("acc 0.75");
        Assert.Equal(ProgressMode.Silent, p.Mode);
        Assert.Equal(4, p.Done);
        Assert.Equal("acc 0.75", p.Status);
        Assert.StartsWith("eval  4/10  40%", p.Line());
        Assert.EndsWith("acc 0.75", p.Line());
    }

    [Fact]
    public void Interactive_mode_renders_markup_unsafe_text_and_a_second_bar_falls_back_to_plain()
    {
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(screen),
        });
        console.Profile.Width = 200; // room for every column
        var plain = new StringWriter();
        using (var p = Progress.Start("train [x]", 5, new ProgressOptions { Mode = ProgressMode.Interactive, Console = console }))
        {
            Assert.Equal(ProgressMode.Interactive, p.Mode);
            using (var second = Progress.Start("eval", 2, new ProgressOptions { Mode = ProgressMode.Interactive, Console = console, Output = plain }))
            {
                Assert.Equal(ProgressMode.Plain, second.Mode);
                second.Advance(2);
            }
            for (int i = 0; i < 5; i++) p.Advance(1, "loss [bold 1.0");
        }
        string shown = screen.ToString();
        Assert.Contains("train [x]", shown);
        Assert.Contains("loss [bold 1.0", shown);
        Assert.Contains("100%", shown);
        Assert.StartsWith("eval  2/2  100%", plain.ToString());
    }
}
