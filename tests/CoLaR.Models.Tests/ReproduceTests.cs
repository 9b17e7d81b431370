using CoLaR.Evaluation;

namespace CoLaR.Models.Tests;

/// <summary>`colar reproduce --quick`: runs trained in parallel child processes give the same table as one process.</summary>
[Collection(ProcessHeavy.Name)]
public class ReproduceTests
{
    [Fact]
    public void QuickReproduction_InWorkers_MatchesOneProcess_AndResumes()
    {
        var parallel = Colar.TempDirectory("reproduce-jobs");
        var serial = Colar.TempDirectory("reproduce-serial");
        var json = Path.Combine(parallel, "reproduction.json");
        string[] Args(string dir, int jobs) => new[] { "reproduce", "--quick", "--methods", "CoT,iCoT,CoLaR", "--training-seeds", "2", "--out", dir,
            "--jobs", jobs.ToString(), "--data-root", Path.Combine(Colar.RepositoryRoot, "..", "shared", "data") };

        var r = Colar.Run(TimeSpan.FromMinutes(5), Args(parallel, 2).Append("--results").Append(json).ToArray());
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("2 runs to train, 2 at a time in child processes", r.Output); // CoT at both training seeds
        Assert.Contains("4 runs to train, 2 at a time in child processes", r.Output); // then iCoT and CoLaR at both
        Assert.True(File.Exists(Path.Combine(parallel, "synthetic", "icot-seed1.log")), "each child's output goes to a log of its own");

        var rows = ResultsFile.Read(json);
        Assert.Equal(new[] { "CoLaR", "CoT", "iCoT" }, rows.Select(x => x.Method).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(rows, x => x.Dataset == "synthetic");
        Assert.All(rows, x => Assert.Equal(2, x.TrainingSeeds));
        Assert.Contains("| iCoT |", File.ReadAllText(Path.Combine(parallel, "synthetic", "table.md")));

        // Every run is single-threaded, so one process gives the very same numbers.
        Assert.True(Colar.Run(TimeSpan.FromMinutes(5), Args(serial, 1)).ExitCode == 0);
        Assert.Equal(File.ReadAllText(Path.Combine(parallel, "synthetic", "results.json")), File.ReadAllText(Path.Combine(serial, "synthetic", "results.json")));

        // A rerun finds everything finished: nothing is trained or evaluated again.
        var again = Colar.Run(TimeSpan.FromMinutes(2), Args(parallel, 2));
        Assert.True(again.ExitCode == 0, again.All);
        Assert.DoesNotContain("child processes", again.Output);
        Assert.Contains("already trained", again.Output);

        Directory.Delete(parallel, recursive: true);
        Directory.Delete(serial, recursive: true);
    }
}

/// <summary>
/// Tests that start several `colar` processes at once, or that SIGKILL one at a precise moment (inside a checkpoint
/// write, a few milliseconds long): they run one after another, so the reproduction's child processes never
/// starve the kill tests' polling on a 2-core machine.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessHeavy
{
    public const string Name = "process-heavy";
}
