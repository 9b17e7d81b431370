using System.Reflection;
using System.Text.RegularExpressions;

namespace CoLaR.Generators.Tests;

/// <summary>
/// docs/spec-language.md stays true: every diagnostic is documented under its ID with its message,
/// every ID the generator mentions exists, every attribute property is documented, and the marked
/// examples compile (or produce exactly the diagnostic they illustrate).
/// </summary>
public partial class DocsTests
{
    static readonly Lazy<string> Docs = new(() => File.ReadAllText(Repo.Path("docs", "spec-language.md")).Replace("\r\n", "\n"));

    [GeneratedRegex(@"COLAR\d{3}")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"<!-- example: (?<kind>[\w]+) -->\n```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex ExamplePattern();

    [Fact]
    public void Every_descriptor_has_a_heading_an_anchor_and_its_message()
    {
        var docs = Docs.Value;
        foreach (var d in Diagnostics.All)
        {
            Assert.Contains($"\n### {d.Id} — {d.Title}\n", docs);
            Assert.Contains($"<a id=\"{d.Id.ToLowerInvariant()}\"></a>", docs);
            Assert.Contains("Message: `" + d.MessageFormat + "`", docs);
            Assert.Equal("docs/spec-language.md#" + d.Id.ToLowerInvariant(), d.HelpLinkUri);
        }
    }

    [Fact]
    public void Every_id_the_generator_mentions_is_a_descriptor_and_ids_are_unique()
    {
        var all = Diagnostics.All.Select(d => d.Id).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        var mentioned = Directory.EnumerateFiles(Repo.Path("generators"), "*.*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".cs") || f.EndsWith(".md")) && !f.Contains("/obj/") && !f.Contains("/bin/"))
            .SelectMany(f => IdPattern().Matches(File.ReadAllText(f)).Select(m => (Id: m.Value, File: Path.GetFileName(f))))
            .ToList();
        var unknown = mentioned.Where(m => !all.Contains(m.Id)).Select(m => $"{m.Id} in {m.File}").Distinct().ToList();
        Assert.True(unknown.Count == 0, "IDs with no descriptor: " + string.Join(", ", unknown));
        // The release-tracking file lists each descriptor once.
        var released = IdPattern().Matches(File.ReadAllText(Repo.Path("generators", "CoLaR.Generators", "AnalyzerReleases.Unshipped.md")))
            .Select(m => m.Value).Order().ToList();
        Assert.Equal(all.Order(), released);
        // And the docs mention no ID that does not exist.
        var documented = IdPattern().Matches(Docs.Value).Select(m => m.Value).Distinct().ToList();
        Assert.Empty(documented.Except(all));
    }

    [Fact]
    public void Every_attribute_property_is_documented()
    {
        var docs = Docs.Value;
        var attributes = typeof(CoLaR.Specs.LlamaAttribute).Assembly.GetTypes()
            .Where(t => t.Namespace == "CoLaR.Specs" && typeof(Attribute).IsAssignableFrom(t) && !t.IsAbstract).ToList();
        Assert.True(attributes.Count >= 15, string.Join(", ", attributes.Select(a => a.Name)));
        foreach (var attribute in attributes)
        {
            var name = attribute.Name[..^"Attribute".Length];
            Assert.Contains($"[{name}", docs);
            foreach (var property in attribute.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.DeclaringType != typeof(Attribute)))
                Assert.True(docs.Contains($"`{property.Name}`") || docs.Contains($"`{property.Name}` (constructor)"),
                    $"[{name}].{property.Name} is not documented");
        }
    }

    public static TheoryData<int, string, string> Examples()
    {
        var data = new TheoryData<int, string, string>();
        int i = 0;
        foreach (Match m in ExamplePattern().Matches(File.ReadAllText(Repo.Path("docs", "spec-language.md")).Replace("\r\n", "\n")))
            data.Add(i++, m.Groups["kind"].Value, m.Groups["code"].Value);
        return data;
    }

    [Fact]
    public void Every_diagnostic_but_COLAR000_has_an_example_and_there_are_valid_examples()
    {
        var kinds = Examples().Select(row => (string)row[1]).ToList();
        Assert.True(kinds.Count(k => k == "valid") >= 7, "valid examples: " + kinds.Count(k => k == "valid"));
        foreach (var d in Diagnostics.All.Where(d => d.Id != "COLAR000"))
            Assert.Contains(d.Id, kinds);
    }

    /// <summary>
    /// Compiles one example: `using CoLaR.Specs;` is added when missing, and TinyLlama (from the first
    /// example) when the example uses it without declaring it.
    /// </summary>
    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_compiles_as_documented(int index, string kind, string code)
    {
        _ = index; // keeps the rows apart in the test list
        var files = new List<SourceFile> { new("Example.cs", (code.Contains("using CoLaR.Specs;") ? "" : "using CoLaR.Specs;\n") + code) };
        if (code.Contains("TinyLlama") && !code.Contains("class TinyLlama"))
        {
            var first = (string)Examples().First()[2];
            Assert.Contains("class TinyLlama", first);
            files.Add(new SourceFile("TinyLlama.cs", first));
        }
        if (kind == "COLAR011" && typeof(CoLaR.Specs.LlamaAttribute).Assembly.GetType("CoLaR.Text.EmbeddedVocabulary") is null)
            files.Add(new SourceFile("EmbeddedVocabulary.cs", "namespace CoLaR.Text { public static class EmbeddedVocabulary { public const int Size = 300; } }"));

        if (kind == "valid")
        {
            GeneratorHarness.RunValid([.. files]);
            return;
        }
        var run = GeneratorHarness.Run([.. files]);
        Assert.Empty(run.Crashes);
        Assert.True(run.ColarDiagnostics.Count == 1 && run.ColarDiagnostics[0].Id == kind,
            $"expected exactly {kind}:\n{run.Describe()}");
        Assert.True(run.CompilationErrors.Count == 0, "the example should fail only with its diagnostic:\n" + run.Describe());
    }
}
