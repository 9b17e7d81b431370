using System.Text.Json.Nodes;
using CoLaR.Checkpoints;
using CoLaR.Import;
using CoLaR.Modules;
using CoLaR.Runs;
using CoLaR.Runtime.Tests.Checkpoints;
using CoLaR.Runtime.Tests.Data;
using CoLaR.Runtime.Tests.Text;
using CoLaR.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Import;

/// <summary>
/// `colar import` on tiny Hugging Face directories of every family, written in the real formats: the imported
/// weights give exactly the source weights' logits, and every broken directory fails naming what is wrong,
/// with nothing written.
/// </summary>
public class ImportTests
{
    public ImportTests() => TestUtil.Torch();

    /// <summary>Logits of a backbone on a fixed batch with one left-padded row: [2, 7, Vocab].</summary>
    internal static Tensor Logits(Backbone backbone, int vocab)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var g = new Generator(99);
        var ids = torch.randint(0, vocab, new long[] { 2, 7 }, generator: g);
        var mask = torch.ones(2, 7, dtype: ScalarType.Int64);
        mask[1, 0] = torch.tensor(0L);
        mask[1, 1] = torch.tensor(0L);
        var hidden = backbone.Forward(backbone.Embed(ids), mask, AttentionOps.PositionIds(mask));
        return backbone.Logits(hidden).MoveToOuterDisposeScope();
    }

    static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        double max = (expected - actual).abs().max().ToDouble();
        Assert.True(max <= tolerance, $"max |difference| = {max:G3} > {tolerance:G3}");
    }

    /// <summary>The HF directory of a random <typeparamref name="TBackbone"/>; returns the source model (weights exactly representable in <paramref name="dtype"/>).</summary>
    static TBackbone Source<TBackbone>(string directory, ScalarType dtype, JsonObject config, bool shards = false, int seed = 1,
        Func<List<(string Name, Tensor Tensor)>, List<(string Name, Tensor Tensor)>>? edit = null) where TBackbone : Backbone, new()
    {
        var source = new TBackbone();
        TinyHfCheckpoint.Randomize(source, seed, dtype);
        var tensors = TinyHfCheckpoint.Tensors(source, dtype);
        if (edit is not null) tensors = edit(tensors);
        TinyHfCheckpoint.WriteWeights(directory, tensors, shards);
        TinyHfFiles.Write(directory, "config.json", config);
        return source;
    }

    static ImportResult Import(string hf, string output, string? backbone = null) =>
        HfImporter.Import(new ImportRequest { Source = hf, Output = output, Backbone = backbone });

    // ------------------------------------------------------------------ each family imports exactly

    [Fact]
    public void Llama_bf16_with_reserved_pad_token_imports_and_gives_the_source_logits()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = Directory.CreateDirectory(Path.Combine(dir.Path, "hf")).FullName;
        var source = Source<ImpLlama>(hf, ScalarType.BFloat16, TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec));
        TinyHfCheckpoint.WriteLlamaTokenizer(hf);

        var output = Path.Combine(dir.Path, "out", "llama.safetensors");
        var result = Import(hf, output);

        Assert.Equal("ImpLlama", result.Backbone.Name); // picked from the config among the declared backbones
        Assert.Equal(0, result.AddedRows);              // <|finetune_right_pad_id|> is the pad token: no new row
        Assert.Equal(["BF16"], result.SourceDTypes);
        var header = SafeTensors.ReadHeader(output);
        Assert.Equal("backbone", header.Metadata[HfImporter.KindKey]);
        Assert.Equal("ImpLlama", header.Metadata[HfImporter.BackboneKey]);
        Assert.All(header.Entries, e => Assert.Equal(SafeTensorsDType.BF16, e.DType)); // stored as read
        Assert.Equal(BackboneLayout.Expected(ImpLlama.Spec).Select(s => s.Name), header.Entries.Select(e => e.Name));

        // The tokenizer travels with the weights, and its pad is the reserved token.
        Assert.True(TokenizerFiles.Present(Path.GetDirectoryName(output)!));
        var tokenizer = (HfTokenizer)Tokenizers.For(Tokenizers.Checkpoint, Path.GetDirectoryName(output));
        Assert.False(tokenizer.PadAdded);
        Assert.Equal(262, tokenizer.VocabularySize);

        // --init: a reasoner over the backbone starts from the imported weights and computes the source's logits.
        var model = new ImpLlamaCoT();
        Assert.Contains("imported backbone 'ImpLlama'", Initialization.FromCheckpoint(model, output));
        AssertClose(Logits(source, 262), Logits(model.Backbone, 262), 0);
        Assert.Equal(double.Parse(header.Metadata[ModelCheckpoint.EmbedsStdKey], System.Globalization.CultureInfo.InvariantCulture),
            model.EnsureEmbedsStd(), 6);
    }

    [Fact]
    public void Qwen2_fp16_in_two_shards_with_a_separate_lm_head_imports_exactly()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = dir.Path;
        var source = Source<ImpQwen2>(hf, ScalarType.Float16, TinyHfCheckpoint.Qwen2Config(ImpQwen2.Spec), shards: true);
        TinyHfCheckpoint.WriteQwenTokenizer(hf);
        Assert.False(File.Exists(Path.Combine(hf, "model.safetensors")));

        var output = Path.Combine(dir.Path, "imported", "qwen.safetensors");
        var result = Import(hf, output, backbone: "ImpQwen2");
        Assert.Equal(0, result.AddedRows); // 261 tokens fit the 272-row table
        Assert.Equal(["F16"], result.SourceDTypes);
        Assert.Contains(SafeTensors.ReadHeader(output).Entries, e => e.Name == "lm_head.weight");

        var model = new ImpQwen2CoT();
        Initialization.FromCheckpoint(model, output);
        AssertClose(Logits(source, 272), Logits(model.Backbone, 272), 0);
    }

    [Fact]
    public void Qwen3_fp32_without_tokenizer_files_imports_with_a_note()
    {
        using var dir = new DataFiles.TempDirectory();
        var source = Source<ImpQwen3>(dir.Path, ScalarType.Float32, TinyHfCheckpoint.Qwen3Config(ImpQwen3.Spec));
        var output = Path.Combine(dir.Path, "out", "qwen3.safetensors");
        var result = Import(dir.Path, output);
        Assert.Null(result.Tokenizer);
        Assert.Contains(result.Notes, n => n.Contains("no tokenizer files"));
        var model = new ImpQwen3CoT();
        Initialization.FromCheckpoint(model, output);
        AssertClose(Logits(source, 96), Logits(model.Backbone, 96), 0);
    }

    [Fact]
    public void Gpt2_conv1d_layout_without_prefix_with_buffers_and_tied_head_gets_a_pad_row()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = Directory.CreateDirectory(Path.Combine(dir.Path, "gpt2")).FullName;
        // As the original GPT-2 upload: no "transformer." prefix, the causal-mask buffers, and lm_head.weight (= wte) present.
        var donor = new ImpGpt2();
        var source = new Gpt2Source(hf, donor);

        var output = Path.Combine(dir.Path, "out", "gpt2.safetensors");
        var result = Import(hf, output);
        Assert.Equal(1, result.AddedRows); // the tokenizer has no pad: [PAD] = id 259, a new row
        Assert.Contains(result.Notes, n => n.Contains("tied"));
        Assert.Contains(result.Notes, n => n.Contains("non-weight buffer"));

        var model = new ImpGpt2CoT();
        Initialization.FromCheckpoint(model, output);
        // Every original token's logit is the source's; the new row is the mean of the others.
        var expected = Logits(source.Model, 259);  // ids below 259; 260 columns, the last from a row the import replaced
        var actual = Logits(model.Backbone, 259);
        AssertClose(expected.narrow(-1, 0, 259), actual.narrow(-1, 0, 259), 0);
        using var noGrad = torch.no_grad();
        var table = model.Backbone.EmbeddingTable;
        AssertClose(table.narrow(0, 0, 259).mean(new long[] { 0 }), table[259], 1e-6);
        var tokenizer = (HfTokenizer)Tokenizers.For(Tokenizers.Checkpoint, Path.GetDirectoryName(output));
        Assert.True(tokenizer.PadAdded);
        Assert.Equal(259, tokenizer.PadId);
    }

    /// <summary>A GPT-2 directory as the original upload: transposed Conv1D weights without the prefix, attn.bias buffers, lm_head tied.</summary>
    sealed class Gpt2Source
    {
        public Gpt2Source(string directory, ImpGpt2 donor)
        {
            // The source model has 259 token rows (the vocabulary before [PAD]); build its weights in a 260-row model and drop the last row.
            TinyHfCheckpoint.Randomize(donor, 7);
            Model = donor;
            var tensors = TinyHfCheckpoint.Tensors(donor, ScalarType.Float32)
                .Select(t => (Name: t.Name["transformer.".Length..], Tensor: t.Name == "transformer.wte.weight" ? t.Tensor.narrow(0, 0, 259).contiguous() : t.Tensor))
                .ToList();
            for (int i = 0; i < ImpGpt2.Spec.Layers; i++)
            {
                tensors.Add(($"h.{i}.attn.bias", torch.ones(1, 1, 64, 64).tril()));
                tensors.Add(($"h.{i}.attn.masked_bias", torch.tensor(-1e4f)));
            }
            tensors.Add(("lm_head.weight", tensors.First(t => t.Name == "wte.weight").Tensor.clone()));
            TinyHfCheckpoint.WriteWeights(directory, tensors);
            TinyHfFiles.Write(directory, "config.json", TinyHfCheckpoint.Gpt2Config(ImpGpt2.Spec, 259));
            Assert.Equal(260, TinyHfCheckpoint.WriteGpt2Tokenizer(directory));
        }

        public ImpGpt2 Model { get; }
    }

    [Fact]
    public void Every_layout_matches_what_the_generated_backbones_yield()
    {
        foreach (var backbone in new Backbone[] { new ImpLlama(), new ImpQwen2(), new ImpQwen3(), new ImpGpt2(), new TestGpt2(), new TestLlama() })
        {
            var expected = BackboneLayout.Expected(backbone.Config);
            var actual = backbone.CheckpointTensors().ToList();
            Assert.Equal(expected.Select(e => e.Name), actual.Select(a => a.Name));
            Assert.Equal(expected.Select(e => e.ShapeText), actual.Select(a => SafeTensors.ShapeText(a.Tensor.shape)));
        }
    }

    [Fact]
    public void Names_map_model_and_transformer_prefix_variants_and_skip_buffers()
    {
        Assert.Equal("model.layers.0.mlp.up_proj.weight", HfImporter.MapName("layers.0.mlp.up_proj.weight", BackboneFamily.Llama));
        Assert.Equal("model.norm.weight", HfImporter.MapName("model.norm.weight", BackboneFamily.Qwen2));
        Assert.Equal("lm_head.weight", HfImporter.MapName("lm_head.weight", BackboneFamily.Qwen3));
        Assert.Null(HfImporter.MapName("model.layers.3.self_attn.rotary_emb.inv_freq", BackboneFamily.Llama));
        Assert.Equal("transformer.h.0.attn.c_attn.bias", HfImporter.MapName("h.0.attn.c_attn.bias", BackboneFamily.Gpt2));
        Assert.Null(HfImporter.MapName("h.0.attn.bias", BackboneFamily.Gpt2));
        Assert.Null(HfImporter.MapName("transformer.h.11.attn.masked_bias", BackboneFamily.Gpt2));
    }

    // ------------------------------------------------------------------ broken directories: named, nothing written

    /// <summary>Imports a directory that must be refused: the message names <paramref name="named"/>, and no output (or tokenizer copy) appears.</summary>
    static CheckpointException Refused(string hf, string outputDirectory, params string[] named)
    {
        var output = Path.Combine(outputDirectory, "out.safetensors");
        var e = Assert.Throws<CheckpointException>(() => Import(hf, output));
        foreach (var n in named) Assert.Contains(n, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any(), "the refused import wrote something");
        return e;
    }

    static string LlamaDirectory(DataFiles.TempDirectory dir, Func<List<(string Name, Tensor Tensor)>, List<(string Name, Tensor Tensor)>>? edit = null,
        JsonObject? config = null, ScalarType dtype = ScalarType.BFloat16)
    {
        var hf = Directory.CreateDirectory(Path.Combine(dir.Path, "hf")).FullName;
        Source<ImpLlama>(hf, dtype, config ?? TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec), edit: edit);
        TinyHfCheckpoint.WriteLlamaTokenizer(hf);
        return hf;
    }

    [Fact]
    public void A_missing_tensor_is_named_with_its_expected_shape()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = LlamaDirectory(dir, t => t.Where(x => x.Name != "model.layers.1.mlp.down_proj.weight").ToList());
        var e = Refused(hf, Path.Combine(dir.Path, "out"), "'model.layers.1.mlp.down_proj.weight'", "[32, 64]", "missing");
        Assert.Equal("model.layers.1.mlp.down_proj.weight", e.TensorName);
    }

    [Fact]
    public void A_wrong_shape_is_named_with_expected_and_actual_shapes()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = LlamaDirectory(dir, t => t.Select(x => x.Name == "model.layers.0.self_attn.k_proj.weight" ? (x.Name, torch.zeros(24, 32, dtype: ScalarType.BFloat16)) : x).ToList());
        var e = Refused(hf, Path.Combine(dir.Path, "out"), "'model.layers.0.self_attn.k_proj.weight'", "[24, 32]", "expects [16, 32]");
        Assert.Equal("model.layers.0.self_attn.k_proj.weight", e.TensorName);
    }

    [Fact]
    public void An_unexpected_tensor_is_named()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = LlamaDirectory(dir, t => t.Append(("model.layers.0.self_attn.q_proj.bias", torch.zeros(32, dtype: ScalarType.BFloat16))).ToList());
        Refused(hf, Path.Combine(dir.Path, "out"), "'model.layers.0.self_attn.q_proj.bias'", "not part of backbone 'ImpLlama'");
    }

    [Fact]
    public void An_unsupported_dtype_is_named()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = LlamaDirectory(dir, t => t.Select(x => x.Name == "model.norm.weight" ? (x.Name, torch.ones(32, dtype: ScalarType.Int32)) : x).ToList());
        var e = Refused(hf, Path.Combine(dir.Path, "out"), "'model.norm.weight'", "I32", "F32, F16 and BF16");
        Assert.Equal("model.norm.weight", e.TensorName);
    }

    [Fact]
    public void An_unsupported_architecture_is_refused_naming_it()
    {
        using var dir = new DataFiles.TempDirectory();
        var config = TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec);
        config["model_type"] = "mistral";
        config["architectures"] = new JsonArray("MistralForCausalLM");
        var hf = LlamaDirectory(dir, config: config);
        Refused(hf, Path.Combine(dir.Path, "out"), "config.json", "'mistral'", "not supported");
    }

    [Fact]
    public void An_unsupported_feature_is_refused_naming_the_key()
    {
        using var dir = new DataFiles.TempDirectory();
        var config = TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec);
        config["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 };
        Refused(LlamaDirectory(dir, config: config), Path.Combine(dir.Path, "out"), "rope_scaling", "'yarn'");
    }

    [Fact]
    public void A_config_that_matches_no_declared_backbone_names_every_differing_field()
    {
        using var dir = new DataFiles.TempDirectory();
        var config = TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec);
        config["num_key_value_heads"] = 4;
        config["rope_theta"] = 10000.0;
        var hf = LlamaDirectory(dir, config: config);
        Refused(hf, Path.Combine(dir.Path, "out"), "ImpLlama:", "num_key_value_heads = 4 but KvHeads = 2", "rope_theta = 10000 but RopeTheta = 500000");
        // Naming the backbone gives the same field-by-field answer.
        var e = Assert.Throws<CheckpointException>(() => Import(hf, Path.Combine(dir.Path, "out", "x.safetensors"), backbone: "ImpLlama"));
        Assert.Contains("does not match backbone 'ImpLlama'", e.Message);
        Assert.Throws<KeyNotFoundException>(() => Import(hf, Path.Combine(dir.Path, "out", "x.safetensors"), backbone: "NoSuchBackbone"));
    }

    [Fact]
    public void Pickle_weights_are_never_loaded()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = Directory.CreateDirectory(Path.Combine(dir.Path, "hf")).FullName;
        TinyHfFiles.Write(hf, "config.json", TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec));
        TinyHfCheckpoint.WriteLlamaTokenizer(hf);
        File.WriteAllBytes(Path.Combine(hf, "pytorch_model.bin"), [0x80, 0x02, (byte)'c', (byte)'o', (byte)'s', 0x0a]); // a pickle that would import os
        Refused(hf, Path.Combine(dir.Path, "out"), "pytorch_model.bin", "pickle", "never loaded");
    }

    [Fact]
    public void A_missing_shard_is_named()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = Directory.CreateDirectory(Path.Combine(dir.Path, "hf")).FullName;
        Source<ImpQwen2>(hf, ScalarType.Float16, TinyHfCheckpoint.Qwen2Config(ImpQwen2.Spec), shards: true);
        File.Delete(Path.Combine(hf, "model-00002-of-00002.safetensors"));
        Refused(hf, Path.Combine(dir.Path, "out"), "model-00002-of-00002.safetensors", "is missing");
    }

    [Fact]
    public void A_tied_lm_head_that_differs_from_the_embedding_is_refused()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = LlamaDirectory(dir, t => t.Append(("lm_head.weight", torch.randn(262, 32).to(ScalarType.BFloat16))).ToList());
        var e = Refused(hf, Path.Combine(dir.Path, "out"), "'lm_head.weight'", "tie_word_embeddings");
        Assert.Equal("lm_head.weight", e.TensorName);
    }

    [Fact]
    public void A_different_tokenizer_already_in_the_output_directory_is_not_overwritten()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = LlamaDirectory(dir);
        var outDir = Directory.CreateDirectory(Path.Combine(dir.Path, "out")).FullName;
        File.WriteAllText(Path.Combine(outDir, "tokenizer.json"), "{}");
        var e = Assert.Throws<CheckpointException>(() => Import(hf, Path.Combine(outDir, "x.safetensors")));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.False(File.Exists(Path.Combine(outDir, "x.safetensors")));
    }

    [Fact]
    public void An_imported_backbone_refuses_a_model_over_another_backbone()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = LlamaDirectory(dir);
        var output = Path.Combine(dir.Path, "out", "llama.safetensors");
        Import(hf, output);
        var e = Assert.Throws<CheckpointException>(() => Initialization.FromCheckpoint(new TestReasoner(), output));
        Assert.Contains("imported for backbone 'ImpLlama'", e.Message);
        Assert.Contains("'TestLlama'", e.Message);
    }

    [Fact]
    public void An_imported_backbone_opens_for_inference_only_with_a_named_model()
    {
        using var dir = new DataFiles.TempDirectory();
        var hf = LlamaDirectory(dir);
        var output = Path.Combine(dir.Path, "out", "llama.safetensors");
        Import(hf, output);
        var e = Assert.Throws<CheckpointException>(() => LoadedModel.Open(output, torch.CPU));
        Assert.Contains("--model", e.Message);
        var loaded = LoadedModel.Open(output, torch.CPU, model: "ImpLlamaCoT");
        Assert.Equal("ImpLlamaCoT", loaded.Spec.Name);
        Assert.Equal(262, loaded.Layout.Tokenizer.VocabularySize);
    }
}
