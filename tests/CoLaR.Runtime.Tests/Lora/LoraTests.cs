using CoLaR.Checkpoints;
using CoLaR.Import;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Runtime.Tests.Checkpoints;
using CoLaR.Runtime.Tests.Data;
using CoLaR.Runtime.Tests.Import;
using CoLaR.Runtime.Tests.Text;
using CoLaR.Specs;
using CoLaR.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Lora;

/// <summary>
/// [Lora]: adapters on the fused projections (B = 0 changes nothing; merging equals the adapted forward), frozen
/// base weights, checkpoints with only the trainable tensors over a named base, chains of bases, resume, export.
/// </summary>
public class LoraTests
{
    public LoraTests() => TestUtil.Torch();

    static Tensor Logits(ReasonerModule model) => ImportTests.Logits(model.Backbone, Math.Min(model.Specification.Backbone.Vocab, 259));

    static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        double max = (expected - actual).abs().max().ToDouble();
        Assert.True(max <= tolerance, $"max |difference| = {max:G3} > {tolerance:G3}");
    }

    /// <summary>Copies one model's backbone weights into another's (same backbone spec).</summary>
    static void CopyBackbone(ReasonerModule from, ReasonerModule to) =>
        ModelCheckpoint.LoadInto(to.Backbone.CheckpointTensors(), from.Backbone.CheckpointTensors().ToDictionary(t => t.Name, t => t.Tensor), "test");

    /// <summary>Gives every adapter a non-zero B (a trained adapter), deterministically.</summary>
    static void TrainAdapters(ReasonerModule model, int seed)
    {
        using var noGrad = torch.no_grad();
        var g = new Generator((ulong)seed);
        foreach (var (name, t) in model.Backbone.LoraTensors())
            if (name.EndsWith("lora_B.weight", StringComparison.Ordinal)) t.copy_(torch.randn(t.shape, generator: g) * 0.3);
        foreach (var (name, p) in model.named_parameters())
            if (!name.StartsWith("backbone.", StringComparison.Ordinal)) p.copy_(torch.randn(p.shape, generator: g) * 0.1);
    }

    [Fact]
    public void Fresh_adapters_leave_the_model_unchanged()
    {
        foreach (var (plain, adapted) in new (ReasonerModule, ReasonerModule)[]
                 {
                     (new ImpLlamaCoT(), new ImpLlamaCoTLora()), (new ImpQwen2CoT(), new ImpQwen2Lora()), (new ImpGpt2CoT(), new ImpGpt2Lora()),
                 })
        {
            TinyHfCheckpoint.Randomize(plain.Backbone, 3);
            CopyBackbone(plain, adapted);
            AssertClose(Logits(plain), Logits(adapted), 0);
        }
    }

    [Fact]
    public void Only_adapters_and_heads_are_trainable_and_adapters_have_peft_names()
    {
        var model = new ImpLlamaCoLaRLora();
        foreach (var (name, p) in model.named_parameters())
        {
            bool adapter = name.Contains("_lora.", StringComparison.Ordinal);
            bool head = !name.StartsWith("backbone.", StringComparison.Ordinal);
            Assert.True(p.requires_grad == (adapter || head), $"{name}: requires_grad = {p.requires_grad}");
        }
        var names = model.Backbone.LoraTensors().ToDictionary(t => t.Name, t => SafeTensors.ShapeText(t.Tensor.shape));
        // Attention | Down: q, k, v, o and down in each of the two layers, A and B each.
        Assert.Equal(2 * 5 * 2, names.Count);
        Assert.Equal("[4, 32]", names["model.layers.0.self_attn.q_proj.lora_A.weight"]);
        Assert.Equal("[32, 4]", names["model.layers.0.self_attn.q_proj.lora_B.weight"]);
        Assert.Equal("[16, 4]", names["model.layers.1.self_attn.k_proj.lora_B.weight"]);
        Assert.Equal("[32, 4]", names["model.layers.1.self_attn.o_proj.lora_B.weight"]);
        Assert.Equal("[4, 64]", names["model.layers.1.mlp.down_proj.lora_A.weight"]);
        Assert.DoesNotContain(names.Keys, n => n.Contains("gate_proj") || n.Contains("up_proj"));
        Assert.Equal(8.0 / 4, model.Backbone.LoraAdapters[0].Scale);
    }

    [Fact]
    public void Gpt2_adapts_c_attn_as_a_whole_in_its_conv1d_names()
    {
        var names = new ImpGpt2Lora().Backbone.LoraTensors().ToDictionary(t => t.Name, t => SafeTensors.ShapeText(t.Tensor.shape));
        Assert.Equal("[4, 32]", names["transformer.h.0.attn.c_attn.lora_A.weight"]);
        Assert.Equal("[96, 4]", names["transformer.h.0.attn.c_attn.lora_B.weight"]);
        Assert.Equal("[128, 4]", names["transformer.h.1.mlp.c_fc.lora_B.weight"]);
        Assert.Equal("[4, 128]", names["transformer.h.1.mlp.c_proj.lora_A.weight"]);
        var e = Assert.Throws<NotSupportedException>(() => new ImpGpt2().AddLora(new LoraOptions(2, 2, LoraTargets.Q | LoraTargets.V)));
        Assert.Contains("c_attn", e.Message);
    }

    [Fact]
    public void Merged_weights_compute_what_the_adapters_do()
    {
        foreach (var model in new ReasonerModule[] { new ImpLlamaCoTLora(), new ImpQwen2Lora(), new ImpGpt2Lora(), new ImpLlamaCoLaRLora() })
        {
            TinyHfCheckpoint.Randomize(model.Backbone, 5);
            TrainAdapters(model, 6);
            var before = Logits(model);
            var k = model is ImpQwen2Lora ? model.Backbone.CheckpointTensors().First(t => t.Name == "model.layers.0.self_attn.k_proj.weight").Tensor.clone() : null;
            model.Backbone.MergeLora();
            AssertClose(before, Logits(model), 1e-5);
            Assert.All(model.Backbone.LoraTensors().Where(t => t.Name.EndsWith("lora_B.weight")), t => Assert.Equal(0, t.Tensor.abs().max().ToDouble()));
            if (k is not null) // k_proj is not adapted in ImpQwen2Lora: merging leaves its slice of the fused weight alone
                TestUtil.AssertSameBits(k, model.Backbone.CheckpointTensors().First(t => t.Name == "model.layers.0.self_attn.k_proj.weight").Tensor, "k_proj");
        }
    }

    [Fact]
    public void A_step_changes_only_adapters_and_heads()
    {
        var model = new ImpLlamaCoLaRLora();
        TinyHfCheckpoint.Randomize(model.Backbone, 8);
        TrainAdapters(model, 9);
        var frozen = model.Backbone.CheckpointTensors().Select(t => (t.Name, Value: t.Tensor.clone())).ToList();
        var adapters = model.Backbone.LoraTensors().Select(t => (t.Name, Value: t.Tensor.clone())).ToList();
        var optimizer = torch.optim.AdamW(model.parameters().Where(p => p.requires_grad), lr: 1e-2);
        var ids = torch.randint(0, 262, new long[] { 2, 5 });
        var mask = torch.ones(2, 5, dtype: ScalarType.Int64);
        var hidden = model.Backbone.Forward(model.Backbone.Embed(ids), mask, AttentionOps.PositionIds(mask));
        var loss = model.Backbone.Logits(hidden).pow(2).mean() + model.PredictLatent(hidden).Mean.pow(2).mean();
        loss.backward();
        optimizer.step();
        foreach (var (name, value) in frozen)
            TestUtil.AssertSameBits(value, model.Backbone.CheckpointTensors().First(t => t.Name == name).Tensor, name);
        var now = model.Backbone.LoraTensors().ToDictionary(t => t.Name, t => t.Tensor);
        Assert.All(adapters, a => Assert.False(a.Value.equal(now[a.Name]).all().item<bool>(), $"{a.Name} did not change"));
    }

    // ------------------------------------------------------------------ checkpoints over a base

    /// <summary>An imported tiny Llama backbone (weights in <paramref name="dir"/>/base, tokenizer beside it); returns its path.</summary>
    static string ImportedLlama(DataFiles.TempDirectory dir, int seed = 11, string name = "base")
    {
        var hf = Directory.CreateDirectory(Path.Combine(dir.Path, "hf-" + seed)).FullName;
        var source = new ImpLlama();
        TinyHfCheckpoint.Randomize(source, seed, ScalarType.BFloat16);
        TinyHfCheckpoint.WriteWeights(hf, TinyHfCheckpoint.Tensors(source, ScalarType.BFloat16));
        TinyHfFiles.Write(hf, "config.json", TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec));
        TinyHfCheckpoint.WriteLlamaTokenizer(hf);
        var output = Path.Combine(dir.Path, name, "llama.safetensors");
        if (File.Exists(output)) File.Delete(output);
        HfImporter.Import(new ImportRequest { Source = hf, Output = output });
        return output;
    }

    [Fact]
    public void A_checkpoint_holds_only_trainable_tensors_and_loads_over_its_base()
    {
        using var dir = new DataFiles.TempDirectory();
        var imported = ImportedLlama(dir);
        var model = new ImpLlamaCoLaRLora();
        var said = Initialization.FromCheckpoint(model, imported);
        Assert.Contains("fresh LoRA adapters r=4", said);
        Assert.Equal(Path.GetFullPath(imported), model.Base!.Path);
        TrainAdapters(model, 12);
        model.EnsureEmbedsStd();
        var expected = Logits(model);

        var checkpoint = Path.Combine(dir.Path, "run", "checkpoints", "final.safetensors");
        ModelCheckpoint.Save(checkpoint, model);
        var header = SafeTensors.ReadHeader(checkpoint);
        Assert.All(header.Entries, e => Assert.True(e.Name.Contains(".lora_") || e.Name.StartsWith("latent_head.", StringComparison.Ordinal), e.Name));
        Assert.Equal(Path.GetFullPath(imported), header.Metadata[ModelCheckpoint.BaseKey]);
        Assert.Equal(SafeTensors.ReadHeader(imported).Metadata[Checkpoint.Sha256Key], header.Metadata[ModelCheckpoint.BaseSha256Key]);
        Assert.Equal("r=4 alpha=8 targets=q,k,v,o,down", header.Metadata[ModelCheckpoint.LoraKey]);
        Assert.DoesNotContain(header.Entries, e => e.Name == "model.embed_tokens.weight");

        // The base loads first; the tokenizer is found beside the base.
        var loaded = LoadedModel.Open(checkpoint, torch.CPU);
        AssertClose(expected, Logits(loaded.Model), 0);
        Assert.Equal(model.EmbedsStd, loaded.Model.EmbedsStd);
        Assert.Equal(262, loaded.Layout.Tokenizer.VocabularySize);
    }

    [Fact]
    public void A_changed_or_missing_base_is_refused_by_name()
    {
        using var dir = new DataFiles.TempDirectory();
        var imported = ImportedLlama(dir);
        var model = new ImpLlamaCoTLora();
        Initialization.FromCheckpoint(model, imported);
        var checkpoint = Path.Combine(dir.Path, "run", "final.safetensors");
        ModelCheckpoint.Save(checkpoint, model);

        ImportedLlama(dir, seed: 13); // other weights, same path
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Load(checkpoint, new ImpLlamaCoTLora()));
        Assert.Contains("the base changed", e.Message);

        File.Delete(imported);
        e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Load(checkpoint, new ImpLlamaCoTLora()));
        Assert.Contains(imported, e.Message);
        Assert.Contains("colar export", e.Message);
    }

    [Fact]
    public void A_lora_checkpoint_of_another_spec_starts_a_new_model_with_its_adapters_merged()
    {
        using var dir = new DataFiles.TempDirectory();
        var imported = ImportedLlama(dir);
        // Stage 1: CoT with LoRA over the imported backbone.
        var cot = new ImpLlamaCoTLora();
        Initialization.FromCheckpoint(cot, imported);
        TrainAdapters(cot, 14);
        var cotLogits = Logits(cot);
        var cotCheckpoint = Path.Combine(dir.Path, "cot", "final.safetensors");
        ModelCheckpoint.Save(cotCheckpoint, cot);

        // Stage 2: CoLaR with LoRA from the CoT checkpoint: its backbone is the CoT model's (adapters merged), its adapters fresh.
        var colar = new ImpLlamaCoLaRLora();
        Assert.Contains("spec 'ImpLlamaCoTLora'", Initialization.FromCheckpoint(colar, cotCheckpoint));
        AssertClose(cotLogits, Logits(colar), 1e-5);
        Assert.Equal(Path.GetFullPath(cotCheckpoint), colar.Base!.Path);
        TrainAdapters(colar, 15);
        colar.EnsureEmbedsStd();
        var colarLogits = Logits(colar);
        var colarCheckpoint = Path.Combine(dir.Path, "colar", "final.safetensors");
        ModelCheckpoint.Save(colarCheckpoint, colar);

        // Reloading walks the chain: imported ← CoT adapters ← CoLaR adapters.
        var again = new ImpLlamaCoLaRLora();
        ModelCheckpoint.Load(colarCheckpoint, again);
        AssertClose(colarLogits, Logits(again), 1e-5);

        // A fully trainable model can start from a LoRA checkpoint too: it gets the merged weights.
        var plain = new ImpLlamaCoT();
        Initialization.FromCheckpoint(plain, cotCheckpoint);
        AssertClose(cotLogits, Logits(plain), 1e-5);
    }

    [Fact]
    public void Training_state_of_a_lora_run_holds_only_trainable_tensors_and_resumes_over_its_base()
    {
        using var dir = new DataFiles.TempDirectory();
        var imported = ImportedLlama(dir);
        var model = new ImpLlamaCoLaRLora();
        Initialization.FromCheckpoint(model, imported);
        TrainAdapters(model, 16);
        model.EnsureEmbedsStd();
        var optimizer = torch.optim.AdamW(model.parameters().Where(p => p.requires_grad));
        var state = Path.Combine(dir.Path, "state");
        TrainingState.Save(state, model, optimizer, "{\"step\": 3}");
        Assert.DoesNotContain(SafeTensors.ReadHeader(TrainingState.PathIn(state)).Entries, e => e.Name == "model/model.embed_tokens.weight");

        var resumed = new ImpLlamaCoLaRLora(); // no --init: the state names its base
        var info = TrainingState.TryLoad(state, resumed, torch.optim.AdamW(resumed.parameters().Where(p => p.requires_grad)));
        Assert.NotNull(info);
        Assert.Equal(model.Base, resumed.Base);
        AssertClose(Logits(model), Logits(resumed), 0);
    }

    [Fact]
    public void Export_merges_into_a_checkpoint_that_stands_alone_and_into_a_hugging_face_directory()
    {
        using var dir = new DataFiles.TempDirectory();
        var imported = ImportedLlama(dir);
        var model = new ImpLlamaCoLaRLora();
        Initialization.FromCheckpoint(model, imported);
        TrainAdapters(model, 17);
        model.EnsureEmbedsStd();
        var expected = Logits(model);
        var checkpoint = Path.Combine(dir.Path, "run", "final.safetensors");
        ModelCheckpoint.Save(checkpoint, model);

        var merged = Path.Combine(dir.Path, "merged", "model.safetensors");
        var result = Export.Merged(checkpoint, merged);
        Assert.Equal(2 * 3, result.MergedAdapters); // per layer: fused q/k/v, o, down
        File.Delete(imported); // the merged file needs no base
        var header = SafeTensors.ReadHeader(merged);
        Assert.False(header.Metadata.ContainsKey(ModelCheckpoint.BaseKey));
        Assert.Contains(header.Entries, e => e.Name == "model.layers.0.mlp.down_proj.weight");
        var loaded = LoadedModel.Open(merged, torch.CPU);
        Assert.Null(loaded.Model.Base);
        AssertClose(expected, Logits(loaded.Model), 1e-5);
        Assert.True(TokenizerFiles.Present(Path.GetDirectoryName(merged)!));

        // Hugging Face layout: the merged backbone (no heads) that `colar import` reads back to the same function.
        var hf = Path.Combine(dir.Path, "hf-export");
        Export.HuggingFace(merged, hf, ScalarType.Float32);
        Assert.True(File.Exists(Path.Combine(hf, "config.json")));
        var reimported = Path.Combine(dir.Path, "reimported", "backbone.safetensors");
        HfImporter.Import(new ImportRequest { Source = hf, Output = reimported });
        var plain = new ImpLlamaCoT();
        Initialization.FromCheckpoint(plain, reimported);
        AssertClose(expected, Logits(plain), 1e-5);
    }
}
