using System.Text.Json.Nodes;
using CoLaR.Checkpoints;
using CoLaR.Import;
using CoLaR.Modules;
using CoLaR.Runtime.Tests.Data;
using CoLaR.Runtime.Tests.Text;
using Xunit;

namespace CoLaR.Runtime.Tests.Import;

/// <summary>config.json of each family read into backbone numbers, compared field by field, and written back.</summary>
public class HfConfigTests
{
    static HfConfig Read(JsonObject json)
    {
        using var dir = new DataFiles.TempDirectory();
        TinyHfFiles.Write(dir.Path, "config.json", json);
        return HfConfig.Read(dir.File("config.json"));
    }

    [Fact]
    public void Transformers_configs_of_every_family_match_their_specs()
    {
        Assert.Empty(Read(TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec)).Differences(ImpLlama.Spec));
        Assert.Empty(Read(TinyHfCheckpoint.Qwen2Config(ImpQwen2.Spec)).Differences(ImpQwen2.Spec));
        Assert.Empty(Read(TinyHfCheckpoint.Qwen3Config(ImpQwen3.Spec)).Differences(ImpQwen3.Spec));
        // GPT-2: n_inner null means 4 × n_embd; no tie_word_embeddings key means tied; +1 row for an added [PAD].
        Assert.Empty(Read(TinyHfCheckpoint.Gpt2Config(ImpGpt2.Spec, 259)).Differences(ImpGpt2.Spec, addedRows: 1));
        Assert.Equal("vocab_size = 259 but Vocab = 260", Assert.Single(Read(TinyHfCheckpoint.Gpt2Config(ImpGpt2.Spec, 259)).Differences(ImpGpt2.Spec)).ToString());
    }

    [Fact]
    public void What_export_writes_reads_back_to_the_same_numbers()
    {
        foreach (var spec in new[] { ImpLlama.Spec, ImpQwen2.Spec, ImpQwen3.Spec, ImpGpt2.Spec, TestGpt2.Spec })
            Assert.Empty(Read(HfConfig.ToJson(spec)).Differences(spec));
    }

    [Fact]
    public void Rope_parameters_of_newer_transformers_are_read()
    {
        var json = TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec);
        var scaling = json["rope_scaling"]!.DeepClone().AsObject();
        scaling["rope_theta"] = 500000.0;
        json.Remove("rope_scaling");
        json.Remove("rope_theta");
        json["rope_parameters"] = scaling;
        var config = Read(json);
        Assert.Equal(500000.0, config.Config.RopeTheta);
        Assert.Equal(8.0, config.Config.RopeScaling!.Factor);
        Assert.Empty(config.Differences(ImpLlama.Spec));
    }

    [Fact]
    public void A_shorter_declared_context_is_fine_for_rope_but_not_for_learned_positions()
    {
        var llama = Read(TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec with { MaxPositions = 4096 }));
        Assert.Empty(llama.Differences(ImpLlama.Spec)); // 128 ≤ 4096
        var gpt2 = Read(TinyHfCheckpoint.Gpt2Config(ImpGpt2.Spec with { MaxPositions = 1024 }, 260));
        Assert.Equal("n_positions = 1024 but MaxPositions = 64", Assert.Single(gpt2.Differences(ImpGpt2.Spec)).ToString());
    }

    [Theory]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act")]
    [InlineData("attention_bias", "true", "attention_bias")]
    [InlineData("mlp_bias", "true", "mlp_bias")]
    [InlineData("hidden_size", "\"wide\"", "hidden_size")]
    public void Unsupported_or_malformed_keys_are_named(string key, string value, string named)
    {
        var json = TinyHfCheckpoint.LlamaConfig(ImpLlama.Spec);
        json[key] = JsonNode.Parse(value);
        var e = Assert.Throws<CheckpointException>(() => Read(json));
        Assert.Contains(named, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void A_missing_required_key_is_named()
    {
        var json = TinyHfCheckpoint.Qwen2Config(ImpQwen2.Spec);
        json.Remove("num_hidden_layers");
        Assert.Contains("lacks num_hidden_layers", Assert.Throws<CheckpointException>(() => Read(json)).Message);
    }
}
