using Microsoft.CodeAnalysis;

namespace CoLaR.Generators.Tests;

/// <summary>
/// One test per diagnostic: the ID, the exact message with the numbers at fault, and where it points
/// (the argument holding the number, or the class name). Plus: valid specs are silent, and half-typed
/// specs leave the talking to the compiler.
/// </summary>
public class DiagnosticTests
{
    const string Usings = "using CoLaR.Specs;\n\nnamespace Specs;\n\n";

    /// <summary>A valid backbone for reasoner tests: Hidden 64, a vocabulary that covers the embedded tokenizer.</summary>
    const string Tiny = "[Llama(Vocab = 512, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class Tiny;\n\n";

    /// <summary>Runs <paramref name="body"/> and asserts it yields exactly one COLAR diagnostic, an error with this ID and message.</summary>
    static (Diagnostic Diagnostic, string Source) Single(string body, string id, string message)
    {
        var source = Usings + body;
        var run = GeneratorHarness.Run(new SourceFile("Spec.cs", source));
        Assert.Empty(run.Crashes);
        var all = run.ColarDiagnostics;
        Assert.True(all.Count == 1, $"expected one {id}, got:\n{run.Describe()}");
        var d = all[0];
        Assert.Equal(id, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("Spec.cs", d.Location.GetLineSpan().Path);
        // The spec is not emitted, so nothing else fails to compile because of it.
        Assert.Empty(run.GeneratedCodeErrors);
        return (d, source);
    }

    /// <summary>
    /// Asserts the diagnostic covers exactly <paramref name="text"/>, found as the first occurrence of
    /// <paramref name="after"/> + <paramref name="text"/> ("class " + "M" finds the class identifier).
    /// </summary>
    static void At((Diagnostic Diagnostic, string Source) result, string text, string after = "")
    {
        var (line, column) = Locate.Of(result.Source, after + text);
        Assert.Equal((line, column + after.Length, text), Locate.Where(result.Diagnostic, result.Source));
    }

    static void Check(string body, string id, string message, string at, string after = "") =>
        At(Single(body, id, message), at, after);

    const string Class = "class ";

    // ---------------------------------------------------------------- backbones

    [Fact]
    public void COLAR001_hidden_not_divisible_by_heads() =>
        Check("[Llama(Vocab = 96, Hidden = 190, Layers = 4, Heads = 6, Intermediate = 512)]\npublic partial class M;",
            "COLAR001", "Hidden (190) is not divisible by Heads (6): head size would be 31.67", "Hidden = 190");

    [Fact]
    public void COLAR001_not_reported_when_HeadDim_is_explicit() =>
        GeneratorHarness.RunValid(Usings + "[Qwen3(Vocab = 96, Hidden = 190, Layers = 1, Heads = 6, HeadDim = 32, Intermediate = 64)]\npublic partial class M;");

    [Fact]
    public void COLAR002_heads_not_divisible_by_kv_heads() =>
        Check("[Llama(Vocab = 96, Hidden = 192, Layers = 4, Heads = 6, KvHeads = 4, Intermediate = 512)]\npublic partial class M;",
            "COLAR002", "Heads (6) is not divisible by KvHeads (4): each key/value head must serve a whole number of query heads", "KvHeads = 4");

    [Fact]
    public void COLAR003_odd_rotary_head_size_from_hidden() =>
        Check("[Qwen2(Vocab = 96, Hidden = 36, Layers = 2, Heads = 4, Intermediate = 64)]\npublic partial class M;",
            "COLAR003", "Head size 9 is odd: rotary position embedding rotates pairs of dimensions", "Hidden = 36");

    [Fact]
    public void COLAR003_odd_explicit_head_dim() =>
        Check("[Qwen3(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, HeadDim = 15, Intermediate = 64)]\npublic partial class M;",
            "COLAR003", "Head size 15 is odd: rotary position embedding rotates pairs of dimensions", "HeadDim = 15");

    [Fact]
    public void COLAR003_not_reported_for_gpt2_which_has_no_rope() =>
        GeneratorHarness.RunValid(Usings + "[Gpt2(Vocab = 96, Hidden = 36, Layers = 1, Heads = 4)]\npublic partial class M;");

    [Fact]
    public void COLAR004_non_positive_size() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 0, Heads = 4, Intermediate = 128)]\npublic partial class M;",
            "COLAR004", "Layers must be positive, but is 0", "Layers = 0");

    [Fact]
    public void COLAR004_missing_size_points_at_the_attribute() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4)]\npublic partial class M;",
            "COLAR004", "Intermediate must be positive, but is 0", "Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4)");

    [Fact]
    public void COLAR004_negative_kv_heads() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, KvHeads = -2, Intermediate = 128)]\npublic partial class M;",
            "COLAR004", "KvHeads must be positive, but is -2", "KvHeads = -2");

    [Fact]
    public void COLAR005_not_partial() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic class M { }",
            "COLAR005", "'M' carries [Llama] but is not declared partial, so no code can be generated for it", "M", Class);

    [Fact]
    public void COLAR006_two_backbone_attributes() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\n[Qwen2(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M;",
            "COLAR006", "'M' carries both [Llama] and [Qwen2]; a class declares exactly one backbone",
            "Qwen2(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)");

    [Fact]
    public void COLAR006_backbone_and_reasoner_on_one_class() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\n[ChainOfThought(typeof(M))]\npublic partial class M;",
            "COLAR006", "'M' carries both [Llama] and [ChainOfThought]; a class declares exactly one role (backbone or reasoner)",
            "ChainOfThought(typeof(M))");

    [Fact]
    public void COLAR006_two_reasoner_roots() =>
        Check(Tiny + "[ChainOfThought(typeof(Tiny))]\n[DirectAnswer(typeof(Tiny))]\npublic partial class R;",
            "COLAR006", "'R' carries both [ChainOfThought] and [DirectAnswer]; a class declares exactly one reasoner root",
            "DirectAnswer(typeof(Tiny))");

    // ---------------------------------------------------------------- reasoners

    const string Merger = "[CompressionMerger(Merge.SqrtMean)]\n";
    const string Head = "[LatentHead(Intermediate = 96)]\n";

    [Fact]
    public void COLAR007_latent_head_output_mismatch() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny))]\n" + Merger + "[LatentHead(Intermediate = 96, Output = 32)]\npublic partial class R;",
            "COLAR007", "LatentHead output (32) does not match Tiny.Hidden (64)", "Output = 32");

    [Fact]
    public void COLAR008_merger_width_mismatch() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny))]\n[CompressionMerger(Merge.Sum, Width = 128)]\n" + Head + "public partial class R;",
            "COLAR008", "CompressionMerger width (128) does not match Tiny.Hidden (64)", "Width = 128");

    [Fact]
    public void COLAR009_missing_latent_head() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny))]\n" + Merger + "public partial class R;",
            "COLAR009", "[LatentReasoner] on 'R' needs [LatentHead]", "LatentReasoner(typeof(Tiny))");

    [Fact]
    public void COLAR009_missing_merger() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny))]\n" + Head + "public partial class R;",
            "COLAR009", "[LatentReasoner] on 'R' needs [CompressionMerger]", "LatentReasoner(typeof(Tiny))");

    [Fact]
    public void COLAR010_inverted_compression_range() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny), MinCompression = 4, MaxCompression = 2)]\n" + Merger + Head + "public partial class R;",
            "COLAR010", "Compression range 4..2 is empty: need 1 <= MinCompression <= MaxCompression", "MaxCompression = 2");

    [Fact]
    public void COLAR010_zero_min_compression() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny), MinCompression = 0)]\n" + Merger + Head + "public partial class R;",
            "COLAR010", "Compression range 0..5 is empty: need 1 <= MinCompression <= MaxCompression", "MinCompression = 0");

    [Fact]
    public void COLAR010_min_above_default_max_points_at_min() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny), MinCompression = 6)]\n" + Merger + Head + "public partial class R;",
            "COLAR010", "Compression range 6..5 is empty: need 1 <= MinCompression <= MaxCompression", "MinCompression = 6");

    /// <summary>
    /// The embedded tokenizer's size comes from the runtime constant CoLaR.Text.EmbeddedVocabulary.Size.
    /// Where the runtime does not define it yet, the test declares it (the generator reads it from the
    /// compilation either way).
    /// </summary>
    [Fact]
    public void COLAR011_vocabulary_smaller_than_the_embedded_tokenizer()
    {
        var runtimeType = typeof(CoLaR.Specs.LlamaAttribute).Assembly.GetType("CoLaR.Text.EmbeddedVocabulary");
        int size = runtimeType?.GetField("Size")?.GetRawConstantValue() is int s ? s : 100;
        string declare = runtimeType is null
            ? "\nnamespace CoLaR.Text { public static class EmbeddedVocabulary { public const int Size = 100; } }\n"
            : "";
        int vocab = size - 4;
        var source = "using CoLaR.Specs;\n\nnamespace Specs\n{\n" +
                     $"[Llama(Vocab = {vocab}, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class Small;\n\n" +
                     "[ChainOfThought(typeof(Small))]\npublic partial class R;\n\n" +
                     "[ChainOfThought(typeof(Small), Tokenizer = \"checkpoint\")]\npublic partial class FromCheckpoint;\n}\n" + declare;
        var run = GeneratorHarness.Run(new SourceFile("Spec.cs", source));
        Assert.Empty(run.Crashes);
        var d = Assert.Single(run.ColarDiagnostics); // the checkpoint tokenizer is not checked against the embedded one
        Assert.Equal("COLAR011", d.Id);
        Assert.Equal($"Small.Vocab ({vocab}) is smaller than the embedded tokenizer's {size} tokens (its special tokens [PAD], [EOS] and ### included)",
            d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        At((d, source), "typeof(Small)");
    }

    [Fact]
    public void COLAR012_backbone_type_is_not_a_backbone() =>
        Check("[ChainOfThought(typeof(string))]\npublic partial class R;",
            "COLAR012", "'string' is not a backbone spec: declare it with [Llama], [Qwen2], [Qwen3] or [Gpt2]", "typeof(string)");

    [Fact]
    public void COLAR012_backbone_type_is_another_reasoner() =>
        Check(Tiny + "[DirectAnswer(typeof(Tiny))]\npublic partial class A;\n\n[ChainOfThought(typeof(A))]\npublic partial class R;",
            "COLAR012", "'Specs.A' is not a backbone spec: declare it with [Llama], [Qwen2], [Qwen3] or [Gpt2]", "typeof(A)");

    [Fact]
    public void COLAR012_backbone_type_is_null() =>
        Check("[ChainOfThought(null)]\npublic partial class R;",
            "COLAR012", "'null' is not a backbone spec: declare it with [Llama], [Qwen2], [Qwen3] or [Gpt2]", "null");

    [Fact]
    public void COLAR013_component_on_the_wrong_root() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny))]\n" + Merger + Head + "[Curriculum(MaxStages = 2)]\npublic partial class R;",
            "COLAR013", "[Curriculum] on 'R' has no effect: it belongs on a class with [ChainOfThought] or [ContinuousThought]", "Curriculum(MaxStages = 2)");

    [Fact]
    public void COLAR013_component_without_any_root() =>
        Check("[LatentHead(Intermediate = 96)]\npublic partial class R;",
            "COLAR013", "[LatentHead] on 'R' has no effect: it belongs on a class with [LatentReasoner]", "LatentHead(Intermediate = 96)");

    [Fact]
    public void COLAR014_rope_scaling_below_one() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, RopeScaling = 0.5)]\npublic partial class M;",
            "COLAR014", "RoPE scaling needs RopeScaling >= 1, 0 < RopeLowFreqFactor < RopeHighFreqFactor and RopeOriginalMaxPositions > 0; " +
                        "got RopeScaling = 0.5, RopeLowFreqFactor = 1, RopeHighFreqFactor = 4, RopeOriginalMaxPositions = 8192", "RopeScaling = 0.5");

    [Fact]
    public void COLAR014_inverted_frequency_band() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, RopeScaling = 8, RopeHighFreqFactor = 0.5)]\npublic partial class M;",
            "COLAR014", "RoPE scaling needs RopeScaling >= 1, 0 < RopeLowFreqFactor < RopeHighFreqFactor and RopeOriginalMaxPositions > 0; " +
                        "got RopeScaling = 8, RopeLowFreqFactor = 1, RopeHighFreqFactor = 0.5, RopeOriginalMaxPositions = 8192", "RopeHighFreqFactor = 0.5");

    [Fact]
    public void COLAR014_original_length_not_positive() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, RopeScaling = 8, RopeOriginalMaxPositions = 0)]\npublic partial class M;",
            "COLAR014", "RoPE scaling needs RopeScaling >= 1, 0 < RopeLowFreqFactor < RopeHighFreqFactor and RopeOriginalMaxPositions > 0; " +
                        "got RopeScaling = 8, RopeLowFreqFactor = 1, RopeHighFreqFactor = 4, RopeOriginalMaxPositions = 0", "RopeOriginalMaxPositions = 0");

    [Fact]
    public void COLAR015_nll_on_a_deterministic_head() =>
        Check(Tiny + "[LatentReasoner(typeof(Tiny))]\n" + Merger + "[LatentHead(Kind = LatentHeadKind.Deterministic, Loss = LatentLoss.Nll)]\npublic partial class R;",
            "COLAR015", "A deterministic latent head has no variance, so its NLL is undefined: use Loss = LatentLoss.Mse or Kind = LatentHeadKind.Gaussian",
            "Loss = LatentLoss.Nll");

    [Fact]
    public void COLAR016_nested() =>
        Check("public static partial class Outer\n{\n    [Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\n    public partial class M;\n}",
            "COLAR016", "'M' is nested in 'Specs.Outer': declare specs as top-level, non-generic classes", "M", Class);

    [Fact]
    public void COLAR016_generic() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M<T>;",
            "COLAR016", "'M' is generic: declare specs as top-level, non-generic classes", "M", Class);

    [Fact]
    public void COLAR016_record() =>
        Check(Tiny + "[DirectAnswer(typeof(Tiny))]\npublic partial record R;",
            "COLAR016", "'R' is a record: declare specs as top-level, non-generic classes", "R", "record ");

    [Fact]
    public void COLAR017_thought_counts() =>
        Check(Tiny + "[ContinuousThought(typeof(Tiny), ThoughtsPerStep = 4, MaxThoughts = 6)]\npublic partial class R;",
            "COLAR017", "MaxThoughts (6) must be a positive multiple of ThoughtsPerStep (4)", "MaxThoughts = 6");

    [Fact]
    public void COLAR017_zero_thoughts_per_step() =>
        Check(Tiny + "[ContinuousThought(typeof(Tiny), ThoughtsPerStep = 0, MaxThoughts = 6)]\npublic partial class R;",
            "COLAR017", "MaxThoughts (6) must be a positive multiple of ThoughtsPerStep (0)", "ThoughtsPerStep = 0");

    [Fact]
    public void COLAR018_lora_rank_above_hidden() =>
        Check(Tiny + "[ChainOfThought(typeof(Tiny))]\n[Lora(Rank = 128)]\npublic partial class R;",
            "COLAR018", "Lora Rank (128) must be between 1 and Tiny.Hidden (64), with at least one target", "Rank = 128");

    [Fact]
    public void COLAR018_lora_without_targets() =>
        Check(Tiny + "[ChainOfThought(typeof(Tiny))]\n[Lora(Rank = 8, Targets = LoraTargets.None)]\npublic partial class R;",
            "COLAR018", "Lora Rank (8) must be between 1 and Tiny.Hidden (64), with at least one target", "Targets = LoraTargets.None");

    public static TheoryData<string, string, string> OutOfRange => new()
    {
        { "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, NormEps = 0)]\npublic partial class M;",
          "NormEps = 0 is out of range: it must be positive", "NormEps = 0" },
        { "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, NormEps = double.NaN)]\npublic partial class M;",
          "NormEps = NaN is out of range: it must be a finite number", "NormEps = double.NaN" },
        { "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, RopeTheta = -1)]\npublic partial class M;",
          "RopeTheta = -1 is out of range: it must be positive", "RopeTheta = -1" },
        { "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128, RopeScaling = double.PositiveInfinity)]\npublic partial class M;",
          "RopeScaling = Infinity is out of range: it must be a finite number", "RopeScaling = double.PositiveInfinity" },
        { "[Llama(Vocab = 96, Hidden = 1 << 30, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M;",
          "Hidden = 1073741824 is out of range: the fused Q/K/V projection would be 3221225472 wide, more than 2147483647", "Hidden = 1 << 30" },
        { "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = int.MaxValue)]\npublic partial class M;",
          "Intermediate = 2147483647 is out of range: the fused gate/up projection would be 4294967294 wide, more than 2147483647", "Intermediate = int.MaxValue" },
        { "[Gpt2(Vocab = 96, Hidden = 1 << 29, Layers = 2, Heads = 4)]\npublic partial class M;",
          "Hidden = 536870912 is out of range: the default Intermediate (4 x Hidden = 2147483648) is more than 2147483647; set Intermediate", "Hidden = 1 << 29" },
        { Tiny + "[ChainOfThought(typeof(Tiny), Tokenizer = \"gpt2\")]\npublic partial class R;",
          "Tokenizer = \"gpt2\" is out of range: use \"embedded\" or \"checkpoint\"", "Tokenizer = \"gpt2\"" },
        { Tiny + "[LatentReasoner(typeof(Tiny), AutoSpeedProbability = 1.5)]\n" + Merger + Head + "public partial class R;",
          "AutoSpeedProbability = 1.5 is out of range: it is a probability in 0..1", "AutoSpeedProbability = 1.5" },
        { Tiny + "[LatentReasoner(typeof(Tiny))]\n[CompressionMerger((Merge)7)]\n" + Head + "public partial class R;",
          "Merge = 7 is out of range: use Merge.Sum, Merge.SqrtMean, Merge.Mean", "(Merge)7" },
        { Tiny + "[LatentReasoner(typeof(Tiny))]\n" + Merger + "[LatentHead(Kind = (LatentHeadKind)2)]\npublic partial class R;",
          "Kind = 2 is out of range: use LatentHeadKind.Gaussian, LatentHeadKind.Deterministic", "Kind = (LatentHeadKind)2" },
        { Tiny + "[ChainOfThought(typeof(Tiny))]\n[Objective(CeWeight = -1)]\npublic partial class R;",
          "CeWeight = -1 is out of range: a weight cannot be negative", "CeWeight = -1" },
        { Tiny + "[ContinuousThought(typeof(Tiny))]\n[TeacherAlignment(Loss = (AlignmentLoss)(-1))]\npublic partial class R;",
          "Loss = -1 is out of range: use AlignmentLoss.SmoothL1, AlignmentLoss.L1, AlignmentLoss.Mse", "Loss = (AlignmentLoss)(-1)" },
        { Tiny + "[ChainOfThought(typeof(Tiny))]\n[Lora(Rank = 8, Targets = (LoraTargets)128)]\npublic partial class R;",
          "Targets = 128 is out of range: combine LoraTargets members (Q, K, V, O, Gate, Up, Down)", "Targets = (LoraTargets)128" },
        { Tiny + "[ChainOfThought(typeof(Tiny))]\n[Lora(Rank = 8, Alpha = 0)]\npublic partial class R;",
          "Alpha = 0 is out of range: it must be positive", "Alpha = 0" },
        { "[Gpt2(Vocab = 512, Hidden = 64, Layers = 2, Heads = 4)]\npublic partial class G;\n\n[ChainOfThought(typeof(G))]\n[Lora(Rank = 8, Targets = LoraTargets.Q | LoraTargets.V)]\npublic partial class R;",
          "Targets = LoraTargets.Q | LoraTargets.V is out of range: G is a GPT-2, whose c_attn projects Q, K and V together and is adapted as a whole: target all of Q, K and V, or none",
          "Targets = LoraTargets.Q | LoraTargets.V" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void COLAR019_value_out_of_range(string body, string message, string at) =>
        Check(body, "COLAR019", message, at);

    [Fact]
    public void COLAR020_base_class() =>
        Check("[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M : System.Attribute;",
            "COLAR020", "'M' derives from 'System.Attribute', but the generated code derives it from CoLaR.Modules.Backbone: remove the base class", "M", Class);

    [Fact]
    public void COLAR020_not_reported_for_the_expected_base() =>
        GeneratorHarness.RunValid(Usings + "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M : CoLaR.Modules.Backbone;");

    [Theory]
    [InlineData("Mlp", "a nested class", "backbone")]
    [InlineData("Hidden", "a member", "backbone")]
    [InlineData("Tensor", "a TorchSharp name", "backbone")]
    public void COLAR021_backbone_name_clashes_with_generated_code(string name, string what, string role) =>
        Check($"[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class {name};",
            "COLAR021", $"'{name}' is also {what} in the code generated for a {role}: rename the class", name, Class);

    [Fact]
    public void COLAR021_reasoner_name_clashes_with_generated_code() =>
        Check(Tiny + "[DirectAnswer(typeof(Tiny))]\npublic partial class Backbone;",
            "COLAR021", "'Backbone' is also a member in the code generated for a reasoner: rename the class", "Backbone", Class);

    // ---------------------------------------------------------------- what must stay silent

    [Fact]
    public void Valid_specs_produce_no_diagnostics()
    {
        foreach (var name in Scenarios.Backbones.Keys.Concat(Scenarios.Reasoners.Keys))
        {
            var run = GeneratorHarness.RunValid(Scenarios.Sources(name));
            Assert.Empty(run.GeneratorDiagnostics);
        }
    }

    [Fact]
    public void A_broken_backbone_is_reported_once_where_it_is_declared_and_its_reasoner_is_not_emitted()
    {
        var run = GeneratorHarness.Run(Usings +
            "[Llama(Vocab = 512, Hidden = 190, Layers = 2, Heads = 6, Intermediate = 128)]\npublic partial class Tiny;\n\n" +
            "[ChainOfThought(typeof(Tiny))]\npublic partial class R;");
        Assert.Equal(["COLAR001"], run.ColarDiagnostics.Select(d => d.Id));
        Assert.Empty(run.Sources);
        Assert.Empty(run.CompilationErrors);
    }

    [Fact]
    public void A_reasoner_over_a_backbone_that_cannot_be_generated_is_not_emitted()
    {
        var run = GeneratorHarness.Run(Usings +
            "[Llama(Vocab = 512, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic class Tiny;\n\n" +
            "[ChainOfThought(typeof(Tiny))]\npublic partial class R;");
        Assert.Equal(["COLAR005"], run.ColarDiagnostics.Select(d => d.Id));
        Assert.Empty(run.Sources);
        Assert.Empty(run.CompilationErrors);
    }

    public static TheoryData<string> HalfTyped => new()
    {
        "[Llama(Vocab = , Hidden = 64",
        "[Llama(Vocab = , Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M;",
        "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = \"128\")]\npublic partial class M;",
        "[Llama(Vocab = 96, Hidden = Size, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M;",
        "[Llama(Vocab = 96, Hiden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M;",
        "[Llama(Vocab = 96 Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M;",
        "[Llama(96, 64)]\npublic partial class M;",
        "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class",
        "[Llama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M : Missing;",
        "[Lama(Vocab = 96, Hidden = 64, Layers = 2, Heads = 4, Intermediate = 128)]\npublic partial class M;",
        "[ChainOfThought(typeof(Missing))]\npublic partial class R;",
        "[ChainOfThought(typeof(Missing<int>[]))]\npublic partial class R;",
        "[ChainOfThought(]\npublic partial class R;",
        "[ChainOfThought]\npublic partial class R;",
        Tiny + "[ChainOfThought(typeof(Tiny)]\npublic partial class R;",
        Tiny + "[ChainOfThought(typeof(Tiny), MaxAnswerTokens = )]\npublic partial class R;",
        Tiny + "[LatentReasoner(typeof(Tiny), MaxCompression = )]\n[CompressionMerger(Merge.)]\n[LatentHead(Kind = LatentHeadKind.)]\npublic partial class R;",
        Tiny + "[LatentReasoner(typeof(Tiny))]\n[CompressionMerger(Merge.Sum)]\n[LatentHead(Intermediate = 96, Kind = Gaussian)]\npublic partial class R;",
        Tiny + "[ContinuousThought(typeof(Tiny), ThoughtsPerStep = 2.5)]\npublic partial class R;",
        Tiny + "[ChainOfThought(typeof(Tiny))]\n[Lora(Rank = 8, Targets = LoraTargets.Q | )]\npublic partial class R;",
        "[Llama(Vocab = 512, Hidden = , Layers = 2, Heads = 6, Intermediate = 128)]\npublic partial class Tiny;\n[ChainOfThought(typeof(Tiny))]\npublic partial class R;",
        "[LatentHead(Intermediate = )]\npublic partial class Orphan;",
    };

    [Theory]
    [MemberData(nameof(HalfTyped))]
    public void Half_typed_specs_produce_only_compiler_errors(string body)
    {
        var run = GeneratorHarness.Run(Usings + body);
        Assert.Empty(run.Crashes);
        Assert.True(run.ColarDiagnostics.Count == 0, "the generator spoke while the compiler reports:\n" + run.Describe());
        Assert.NotEmpty(run.InputErrors);
        Assert.Empty(run.GeneratedCodeErrors);
    }
}
