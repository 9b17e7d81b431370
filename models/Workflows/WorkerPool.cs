using System.Diagnostics;
using CoLaR.Training;

namespace CoLaR.Models.Workflows;

/// <summary>
/// Runs jobs as child `colar` processes, at most <see cref="Slots"/> at a time, each writing its output to a
/// log file of its own. Used by `colar reproduce --jobs N`: independent training runs in separate
/// single-threaded processes use N cores without changing any run's arithmetic (a run's float summation
/// order depends on its thread count, not on what runs beside it), so a table is the same at any N.
/// </summary>
public sealed class WorkerPool(int slots, TextWriter console)
{
    public int Slots { get; } = slots >= 1 ? slots : throw new ArgumentException($"--jobs must be 1 or more (got {slots})");

    /// <summary>One child: a display name, the `colar` arguments, and where its output goes.</summary>
    public sealed record Job(string Name, IReadOnlyList<string> Arguments, string LogPath);

    /// <summary>How often a line summarising the running jobs is printed.</summary>
    public TimeSpan StatusEvery { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Runs every job; throws after all have ended if any failed, naming each failed job's log.</summary>
    public void RunAll(IReadOnlyList<Job> jobs)
    {
        var clock = Stopwatch.StartNew();
        var pending = new Queue<Job>(jobs);
        var running = new List<Worker>();
        var failed = new List<string>();
        // Ctrl+C or a kill of this process must not leave orphaned trainers behind.
        void KillAll()
        {
            lock (running) foreach (var w in running) w.Kill();
        }
        ConsoleCancelEventHandler onCancel = (_, _) => KillAll();
        EventHandler onExit = (_, _) => KillAll();
        Console.CancelKeyPress += onCancel;
        AppDomain.CurrentDomain.ProcessExit += onExit;
        try
        {
            var lastStatus = clock.Elapsed;
            while (pending.Count > 0 || running.Count > 0)
            {
                while (running.Count < Slots && pending.Count > 0)
                {
                    var job = pending.Dequeue();
                    lock (running) running.Add(Worker.Start(job));
                    console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] started {job.Name} (output: {job.LogPath})");
                }
                Thread.Sleep(200);
                foreach (var w in running.Where(w => w.Process.HasExited).ToList())
                {
                    lock (running) running.Remove(w);
                    int code = w.Finish();
                    console.WriteLine(code == 0
                        ? $"[{clock.Elapsed:hh\\:mm\\:ss}] {w.Job.Name} finished"
                        : $"[{clock.Elapsed:hh\\:mm\\:ss}] {w.Job.Name} FAILED (exit code {code}): {w.LastError ?? "see " + w.Job.LogPath}");
                    if (code != 0) failed.Add($"{w.Job.Name} (exit code {code}, output in {w.Job.LogPath})");
                }
                if (running.Count > 0 && clock.Elapsed - lastStatus >= StatusEvery)
                {
                    lastStatus = clock.Elapsed;
                    console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] " + string.Join(" | ", running.Select(w => $"{w.Job.Name}: {w.LastLine ?? "starting"}")));
                }
            }
        }
        finally
        {
            KillAll();
            Console.CancelKeyPress -= onCancel;
            AppDomain.CurrentDomain.ProcessExit -= onExit;
        }
        if (failed.Count > 0) throw new TrainingStoppedException($"{failed.Count} of {jobs.Count} jobs failed: {string.Join("; ", failed)}");
    }

    /// <summary>A running child and the tail of what it printed.</summary>
    sealed class Worker
    {
        public required Job Job { get; init; }
        public required Process Process { get; init; }
        public required StreamWriter Log { get; init; }
        public string? LastLine { get; private set; }
        public string? LastError { get; private set; }

        public static Worker Start(Job job)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(job.LogPath))!);
            var log = new StreamWriter(job.LogPath, append: true) { AutoFlush = true };
            var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            // Run as `dotnet colar.dll …`, the child needs the assembly path; run as the `colar` app host, it does not.
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") info.ArgumentList.Add(typeof(WorkerPool).Assembly.Location);
            foreach (var a in job.Arguments) info.ArgumentList.Add(a);
            info.Environment["CI"] = "true"; // plain progress lines, one per report, for the log
            var worker = new Worker { Job = job, Process = new Process { StartInfo = info }, Log = log };
            worker.Process.OutputDataReceived += (_, e) => worker.Append(e.Data, error: false);
            worker.Process.ErrorDataReceived += (_, e) => worker.Append(e.Data, error: true);
            worker.Process.Start();
            worker.Process.BeginOutputReadLine();
            worker.Process.BeginErrorReadLine();
            return worker;
        }

        void Append(string? line, bool error)
        {
            if (string.IsNullOrWhiteSpace(line)) return;
            lock (Log) Log.WriteLine(line);
            if (error) LastError = line.Trim();
            else LastLine = line.Trim().Length > 90 ? line.Trim()[..90] + "…" : line.Trim();
        }

        /// <summary>Waits for the output to drain, closes the log, returns the exit code.</summary>
        public int Finish()
        {
            Process.WaitForExit();
            int code = Process.ExitCode;
            lock (Log) Log.Dispose();
            Process.Dispose();
            return code;
        }

        public void Kill()
        {
            try
            {
                if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        }
    }
}
