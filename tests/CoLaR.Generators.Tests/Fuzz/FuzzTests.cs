using System.Diagnostics;
using Xunit.Abstractions;

namespace CoLaR.Generators.Tests.Fuzz;

/// <summary>
/// Seeded random mutations of valid specs. Whatever the text, the generator never crashes (no COLAR000,
/// AD0001, CS8785) and never emits code that fails to compile on its own; an independent oracle
/// (<see cref="SpecOracle"/>) says which mutated specs are invalid (the build must fail: a COLAR error or
/// a compiler error) and which are valid (no diagnostic, a compiling module per spec class).
/// Reproduce a failure with COLAR_FUZZ_SEED; explore with COLAR_FUZZ_CASES.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;

    /// <summary>The valid seeds: each scenario, plus the shipped specs.</summary>
    static List<SourceFile[]> Seeds()
    {
        var seeds = Scenarios.Backbones.Keys.Concat(Scenarios.Reasoners.Keys).Select(Scenarios.Sources).ToList();
        seeds.Add(Repo.ShippedSpecFiles().Select(f => new SourceFile(f, File.ReadAllText(Repo.Path(f))))
            .Append(new SourceFile("GlobalUsings.g.cs", GeneratorHarness.ImplicitUsings)).ToArray());
        return seeds;
    }

    [Fact]
    public void Seeds_are_valid_by_the_oracle_and_the_generator()
    {
        foreach (var seed in Seeds())
        {
            Assert.Equal(Verdict.Valid, SpecOracle.Judge(seed));
            var run = GeneratorHarness.Run(seed);
            Assert.True(run.GeneratorDiagnostics.IsEmpty && run.CompilationErrors.Count == 0, run.Describe());
        }
    }

    [Fact]
    public void Oracle_agrees_with_hand_picked_cases()
    {
        const string head = "using CoLaR.Specs;\n";
        Assert.Equal(Verdict.Invalid, SpecOracle.Judge([head + "[Llama(Vocab = 9, Hidden = 190, Layers = 1, Heads = 6, Intermediate = 8)] public partial class A;"]));
        Assert.Equal(Verdict.Valid, SpecOracle.Judge([head + "[Llama(Vocab = 9, Hidden = 192, Layers = 1, Heads = 6, Intermediate = 8)] public partial class A;"]));
        Assert.Equal(Verdict.Invalid, SpecOracle.Judge([head + "[Gpt2(Vocab = 9, Hidden = 1 << 29, Layers = 1, Heads = 8)] public partial class A;"]));
        Assert.Equal(Verdict.Invalid, SpecOracle.Judge([head + "[Llama(Vocab = 9, Hidden = 64, Layers = 1, Heads = 4, Intermediate = 8)] public class A;"]));
        Assert.Equal(Verdict.Unknown, SpecOracle.Judge([head + "[Llama(Vocab = N, Hidden = 64, Layers = 1, Heads = 4, Intermediate = 8)] public partial class A;"]));
    }

    [Fact]
    public void Random_mutations_never_crash_and_invalid_specs_never_build()
    {
        int seed = Env("COLAR_FUZZ_SEED", 20_250_601), cases = Env("COLAR_FUZZ_CASES", 600);
        var random = new Random(seed);
        var mutator = new SpecMutator(random);
        var seeds = Seeds();
        var failures = new List<string>();
        var verdicts = new Dictionary<Verdict, int> { [Verdict.Valid] = 0, [Verdict.Invalid] = 0, [Verdict.Unknown] = 0 };
        var mutationsUsed = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();

        for (int i = 0; i < cases; i++)
        {
            var files = (SourceFile[])seeds[random.Next(seeds.Count)].Clone();
            var applied = new List<string>();
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits * 4 && applied.Count < edits; e++)
            {
                int f = random.Next(files.Length);
                var (name, apply) = mutator.Pick();
                var mutated = apply(mutator, files[f].Text);
                if (mutated is null || mutated == files[f].Text) continue;
                files[f] = files[f] with { Text = mutated };
                applied.Add(name);
                mutationsUsed[name] = mutationsUsed.GetValueOrDefault(name) + 1;
            }

            var verdict = SpecOracle.Judge(files);
            verdicts[verdict]++;
            var problem = Check(files, verdict);
            if (problem is not null)
                failures.Add($"case {i} ({string.Join(", ", applied)}; oracle: {verdict}): {problem}\n" +
                             string.Join("\n", files.Where(f => !f.Path.StartsWith("GlobalUsings")).Select(f => $"--- {f.Path}\n{f.Text}")));
        }

        output.WriteLine($"{cases} cases in {clock.Elapsed.TotalSeconds:0.0} s (seed {seed}): " +
                         string.Join(", ", verdicts.Select(v => $"{v.Key} {v.Value}")));
        output.WriteLine("mutations: " + string.Join(", ", mutationsUsed.OrderBy(m => m.Key).Select(m => $"{m.Key} {m.Value}")));
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases failed:\n\n" + string.Join("\n\n", failures.Take(5)));
        // The mix must exercise both sides of the oracle.
        Assert.True(verdicts[Verdict.Valid] >= cases / 10 && verdicts[Verdict.Invalid] >= cases / 4, string.Join(", ", verdicts));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60) || cases > 600, $"fuzzing took {clock.Elapsed}");
    }

    /// <summary>Null when the run is as the oracle demands; else what went wrong.</summary>
    static string? Check(SourceFile[] files, Verdict verdict)
    {
        GeneratorRun run;
        try { run = GeneratorHarness.Run(files); }
        catch (Exception e) { return "the driver threw: " + e; }

        if (run.Crashes.Count > 0) return "generator crash: " + string.Join("; ", run.Crashes);
        bool colarErrors = run.ColarDiagnostics.Any(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        switch (verdict)
        {
            case Verdict.Invalid:
                if (!colarErrors && run.CompilationErrors.Count == 0) return "invalid spec built with no error";
                break;
            case Verdict.Valid:
                if (run.GeneratorDiagnostics.Length > 0 || run.CompilationErrors.Count > 0) return "valid spec did not build:\n" + run.Describe();
                int expected = SpecOracle.SpecClasses(files);
                if (run.Sources.Count != expected) return $"expected {expected} generated files, got {run.Sources.Count}";
                break;
        }
        // Whatever the verdict: when neither the generator nor the compiler objects to the user's code,
        // the generated code compiles.
        if (!colarErrors && run.InputErrors.Count == 0 && run.GeneratedCodeErrors.Count > 0)
            return "generated code does not compile:\n" + string.Join("\n", run.GeneratedCodeErrors.Take(5));
        return null;
    }
}
