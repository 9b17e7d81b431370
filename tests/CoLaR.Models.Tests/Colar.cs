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

    /// <summary>A fresh temporary folder, deleted by the caller.</summary>
    public static string TempDirectory(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "colar-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

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
