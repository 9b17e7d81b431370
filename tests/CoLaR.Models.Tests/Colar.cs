using System.Diagnostics;

namespace CoLaR.Models.Tests;

/// <summary>Runs the real `colar` program (the built colar.dll next to the tests) as a child process, as a user would.</summary>
public static class Colar
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;
    }

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "colar.dll");

    public static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true"; // plain progress lines
        return Process.Start(info)!;
    }

    public static Result Run(params string[] args) => Run(TimeSpan.FromMinutes(5), args);

    public static Result Run(TimeSpan timeout, params string[] args)
    {
        using var process = Start(args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"colar {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>
    /// A fresh temporary folder under this test process's own root, which is deleted when the process exits
    /// (checkpoints and logs of a few dozen `colar` runs, ~70 MB a run of the suite). Set
    /// COLAR_KEEP_TEST_FILES=1 to keep them for a look after a failure.
    /// </summary>
    public static string TempDirectory(string name)
    {
        var dir = Path.Combine(s_root.Value, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    static readonly Lazy<string> s_root = new(() =>
    {
        var root = Path.Combine(Path.GetTempPath(), "colar-tests", $"run-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(root);
        if (Environment.GetEnvironmentVariable("COLAR_KEEP_TEST_FILES") is not ("1" or "true"))
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            };
        return root;
    });

    /// <summary>The repository root (the folder holding CoLaR.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CoLaR.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("CoLaR.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
