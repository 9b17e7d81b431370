using System.Text.Json.Nodes;
using CoLaR.Checkpoints;
using CoLaR.Models.Backbones;
using CoLaR.Modules;
using CoLaR.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Models.Tests;

/// <summary>
/// The pre-trained path through the real command line, on a Hugging Face directory the test writes for the tiny
/// backbone: import → LoRA training from it (--init) → eval with a config file and overrides → merge-and-export →
/// Hugging Face export → re-import. And a broken directory fails naming the tensor, writing nothing.
/// </summary>
public class PretrainedTests
{
    const string Train = "Tom has 3 apples. He buys 1 more. How many apples does Tom have now?||<<3+1=4>> #### 4\n" +
                         "Ann has 2 pens. She buys 5 more. How many pens does Ann have now?||<<2+5=7>> #### 7\n";

    /// <summary>config.json + model.safetensors (BF16) of a random TinyLlama, named as transformers names them.</summary>
    static string WriteHfDirectory(string directory, Func<string, bool>? keep = null)
    {
        TorchNative.EnsureLoaded();
        Directory.CreateDirectory(directory);
        var c = TinyLlama.Spec;
        var g = new Generator(5);
        var tensors = BackboneLayout.Expected(c).Where(s => keep?.Invoke(s.Name) ?? true)
            .Select(s => (s.Name, (torch.randn(s.Shape, generator: g) * 0.05 + (s.Shape.Length == 1 ? 1 : 0)).to(ScalarType.BFloat16))).ToList();
        SafeTensors.Write(Path.Combine(directory, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama", ["hidden_act"] = "silu",
            ["hidden_size"] = c.Hidden, ["intermediate_size"] = c.Intermediate, ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads, ["num_key_value_heads"] = c.KvHeads, ["max_position_embeddings"] = 2048,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["rope_scaling"] = null, ["tie_word_embeddings"] = true,
            ["vocab_size"] = c.Vocab, ["torch_dtype"] = "bfloat16",
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        return directory;
    }

    [Fact]
    public void Import_then_lora_training_eval_and_export_through_the_command_line()
    {
        var dir = Colar.TempDirectory("pretrained");
        var hf = WriteHfDirectory(Path.Combine(dir, "hf"));
        var data = Path.Combine(dir, "train.txt");
        File.WriteAllText(data, Train);

        var imported = Path.Combine(dir, "imported", "tiny.safetensors");
        var r = Colar.Run("import", "--hf", hf, "--out", imported);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("as backbone TinyLlama", r.Output);

        // LoRA from the imported weights: the final checkpoint holds adapters and the latent head, over its base.
        var run = Path.Combine(dir, "run");
        r = Colar.Run("train", "--model", "CoLaR_Lora", "--data", data, "--out", run, "--init", imported, "--steps", "2",
            "batch_size=2", "checkpoint_every=2", "warmup_steps=0");
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("fresh LoRA adapters r=8", r.Output);
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.Equal("auto", saved["run"]!["precision"]!.GetValue<string>().ToLowerInvariant());
        var final = Path.Combine(run, "checkpoints", "final.safetensors");
        var header = SafeTensors.ReadHeader(final);
        Assert.Equal(Path.GetFullPath(imported), header.Metadata["colar.base"]);
        Assert.All(header.Entries, e => Assert.True(e.Name.Contains(".lora_") || e.Name.StartsWith("latent_head.", StringComparison.Ordinal), e.Name));

        // Eval: options from a config file, overridden on the command line; the effective ones are saved.
        var evalConfig = Path.Combine(dir, "eval.json");
        File.WriteAllText(evalConfig, """{ "compression": [2, 3], "seeds": 4, "limit": 2, "batch_size": 2 }""");
        var evalDir = Path.Combine(dir, "eval");
        r = Colar.Run("eval", "--checkpoint", final, "--data", data, "--out", evalDir, "--config", evalConfig, "seeds=1");
        Assert.True(r.ExitCode == 0, r.All);
        var effective = JsonNode.Parse(File.ReadAllText(Path.Combine(evalDir, "config.json")))!;
        Assert.Equal(1, effective["eval"]!["seeds"]!.GetValue<int>());
        Assert.Equal(2, effective["eval"]!["limit"]!.GetValue<int>());
        Assert.Equal("[2,3]", effective["eval"]!["compression"]!.ToJsonString());
        Assert.Contains("\"seeds\": 1", r.Output); // printed at start too
        Assert.True(File.Exists(Path.Combine(evalDir, "results.json")));

        // Merge-and-export: a checkpoint that needs no base, then the backbone in Hugging Face layout, which imports again.
        var merged = Path.Combine(dir, "merged", "colar.safetensors");
        var hfOut = Path.Combine(dir, "hf-export");
        r = Colar.Run("export", "--checkpoint", final, "--out", merged, "--hf", hfOut, "--dtype", "bf16");
        Assert.True(r.ExitCode == 0, r.All);
        Assert.False(SafeTensors.ReadHeader(merged).Metadata.ContainsKey("colar.base"));
        r = Colar.Run("infer", "--checkpoint", merged, "--compression", "2", "latent_temperature=0", "Tom has 3 apples. He buys 1 more. How many?");
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("answer:", r.Output);
        r = Colar.Run("infer", "--checkpoint", merged, "--compression", "2", "latent_temperature=0", "max_latents=1", "Tom has 3 apples. He buys 1 more. How many?");
        Assert.True(r.ExitCode == 0, r.All);
        Assert.InRange(int.Parse(System.Text.RegularExpressions.Regex.Match(r.Output, @"#L: (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0, 1);
        r = Colar.Run("import", "--hf", hfOut, "--out", Path.Combine(dir, "reimported", "tiny.safetensors"), "--model", "CoT");
        Assert.True(r.ExitCode == 0, r.All);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void A_broken_directory_fails_naming_the_tensor_and_writes_nothing()
    {
        var dir = Colar.TempDirectory("pretrained-broken");
        var hf = WriteHfDirectory(Path.Combine(dir, "hf"), keep: name => name != "model.layers.2.self_attn.o_proj.weight");
        var output = Path.Combine(dir, "out", "tiny.safetensors");
        var r = Colar.Run("import", "--hf", hf, "--out", output);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'model.layers.2.self_attn.o_proj.weight' (shape [128, 128]) is missing", r.Error);
        Assert.DoesNotContain("   at ", r.Error);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Eval_rejects_an_unknown_option_naming_the_closest()
    {
        var dir = Colar.TempDirectory("eval-option");
        var r = Colar.Run("eval", "--checkpoint", Path.Combine(dir, "none.safetensors"), "--data", Path.Combine(dir, "none.txt"), "--out", dir, "seedz=2");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown option 'seedz'", r.Error);
        Assert.Contains("did you mean 'seeds'", r.Error);
        Directory.Delete(dir, recursive: true);
    }

    [Theory]
    [InlineData("llama32-1b-cot.json", "sft")]
    [InlineData("llama32-1b-colar.json", "sft")]
    [InlineData("llama32-1b-eval.json", "eval")]
    public void Shipped_configs_bind_every_key(string file, string kind)
    {
        var values = CoLaR.Runs.RunConfig.ReadFile(Path.Combine(Colar.RepositoryRoot, "models", "configs", file));
        var used = new HashSet<string>();
        IEnumerable<string> known;
        if (kind == "sft")
        {
            var sft = CoLaR.Runs.RunConfig.Bind(new CoLaR.Training.SftOptions(), values, used);
            Assert.Equal(1e-4, sft.LearningRate);
            known = CoLaR.Runs.RunConfig.Keys<CoLaR.Training.SftOptions>();
        }
        else
        {
            CoLaR.Runs.RunConfig.Bind(new CoLaR.Runs.EvalSettings(), values, used);
            known = CoLaR.Runs.RunConfig.Keys<CoLaR.Runs.EvalSettings>();
        }
        var run = CoLaR.Runs.RunConfig.Bind(new CoLaR.Runs.RunOptions(), values, used);
        CoLaR.Runs.RunConfig.RejectUnknown(values, used, known.Concat(CoLaR.Runs.RunConfig.Keys<CoLaR.Runs.RunOptions>()));
        Assert.Equal("cuda", run.Device);
        Assert.Equal(CoLaR.Training.Precision.Bf16, run.Precision);
    }
}
