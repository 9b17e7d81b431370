using System.Text.Json.Nodes;
using CoLaR.Checkpoints;
using CoLaR.Modules;
using CoLaR.Runtime.Tests.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Import;

/// <summary>
/// Writes Hugging Face checkpoint directories of tiny sizes in the real formats — config.json as transformers
/// writes it for each family, model.safetensors (or two shards and model.safetensors.index.json) with random
/// weights in F32, F16 or BF16, tokenizer files — so the importer is tested without any download.
/// </summary>
internal static class TinyHfCheckpoint
{
    /// <summary>Fills a backbone with random weights (norm scales around 1) that survive a round trip through <paramref name="dtype"/> unchanged.</summary>
    public static void Randomize(Backbone backbone, int seed, ScalarType dtype = ScalarType.Float32)
    {
        using var noGrad = torch.no_grad();
        var g = new Generator((ulong)seed);
        foreach (var (name, p) in backbone.named_parameters())
        {
            var noise = torch.randn(p.shape, generator: g) * (p.dim() == 1 && !name.EndsWith("bias", StringComparison.Ordinal) ? 0.1 : 0.08);
            var value = p.dim() == 1 && !name.EndsWith("bias", StringComparison.Ordinal) ? noise + 1 : noise;
            p.copy_(value.to(dtype).to(ScalarType.Float32));
        }
    }

    /// <summary>The backbone's tensors under their Hugging Face names (our checkpoint names), converted to <paramref name="dtype"/>.</summary>
    public static List<(string Name, Tensor Tensor)> Tensors(Backbone backbone, ScalarType dtype)
    {
        using var noGrad = torch.no_grad();
        return backbone.CheckpointTensors().Select(t => (t.Name, t.Tensor.detach().to(dtype).contiguous().clone())).ToList();
    }

    /// <summary>model.safetensors, or (with <paramref name="shards"/>) two shard files and the index that maps each tensor to its shard.</summary>
    public static void WriteWeights(string directory, IReadOnlyList<(string Name, Tensor Tensor)> tensors, bool shards = false)
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt" }; // what transformers writes
        if (!shards)
        {
            SafeTensors.Write(Path.Combine(directory, "model.safetensors"), tensors, metadata);
            return;
        }
        int half = tensors.Count / 2;
        var parts = new[] { tensors.Take(half).ToList(), tensors.Skip(half).ToList() };
        var map = new JsonObject();
        long total = 0;
        for (int i = 0; i < 2; i++)
        {
            var file = $"model-{i + 1:00000}-of-00002.safetensors";
            SafeTensors.Write(Path.Combine(directory, file), parts[i], metadata);
            foreach (var (name, t) in parts[i]) { map[name] = file; total += t.NumberOfElements * t.ElementSize; }
        }
        TinyHfFiles.Write(directory, "model.safetensors.index.json", new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total },
            ["weight_map"] = map,
        });
    }

    // ------------------------------------------------------------------ config.json, per family, as transformers writes them

    public static JsonObject LlamaConfig(BackboneConfig c) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["attention_bias"] = false, ["attention_dropout"] = 0.0, ["bos_token_id"] = 0, ["eos_token_id"] = 1,
        ["head_dim"] = c.HeadDim, ["hidden_act"] = "silu", ["hidden_size"] = c.Hidden, ["initializer_range"] = 0.02,
        ["intermediate_size"] = c.Intermediate, ["max_position_embeddings"] = c.MaxPositions, ["mlp_bias"] = false,
        ["model_type"] = "llama", ["num_attention_heads"] = c.Heads, ["num_hidden_layers"] = c.Layers, ["num_key_value_heads"] = c.KvHeads,
        ["pretraining_tp"] = 1, ["rms_norm_eps"] = c.NormEps,
        ["rope_scaling"] = c.RopeScaling is { } s
            ? new JsonObject { ["factor"] = s.Factor, ["high_freq_factor"] = s.HighFreqFactor, ["low_freq_factor"] = s.LowFreqFactor,
                               ["original_max_position_embeddings"] = s.OriginalMaxPositions, ["rope_type"] = "llama3" }
            : null,
        ["rope_theta"] = c.RopeTheta, ["tie_word_embeddings"] = c.TieEmbeddings, ["torch_dtype"] = "bfloat16",
        ["transformers_version"] = "4.45.0", ["use_cache"] = true, ["vocab_size"] = c.Vocab,
    };

    public static JsonObject Qwen2Config(BackboneConfig c) => new()
    {
        ["architectures"] = new JsonArray("Qwen2ForCausalLM"),
        ["attention_dropout"] = 0.0, ["bos_token_id"] = 151643, ["eos_token_id"] = 151645, ["hidden_act"] = "silu",
        ["hidden_size"] = c.Hidden, ["initializer_range"] = 0.02, ["intermediate_size"] = c.Intermediate,
        ["max_position_embeddings"] = c.MaxPositions, ["max_window_layers"] = 21, ["model_type"] = "qwen2",
        ["num_attention_heads"] = c.Heads, ["num_hidden_layers"] = c.Layers, ["num_key_value_heads"] = c.KvHeads,
        ["rms_norm_eps"] = c.NormEps, ["rope_scaling"] = null, ["rope_theta"] = c.RopeTheta, ["sliding_window"] = 32768,
        ["tie_word_embeddings"] = c.TieEmbeddings, ["torch_dtype"] = "float16", ["transformers_version"] = "4.43.1",
        ["use_cache"] = true, ["use_sliding_window"] = false, ["vocab_size"] = c.Vocab,
    };

    public static JsonObject Qwen3Config(BackboneConfig c) => new()
    {
        ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
        ["attention_bias"] = false, ["attention_dropout"] = 0.0, ["head_dim"] = c.HeadDim, ["hidden_act"] = "silu",
        ["hidden_size"] = c.Hidden, ["intermediate_size"] = c.Intermediate, ["max_position_embeddings"] = c.MaxPositions,
        ["model_type"] = "qwen3", ["num_attention_heads"] = c.Heads, ["num_hidden_layers"] = c.Layers,
        ["num_key_value_heads"] = c.KvHeads, ["rms_norm_eps"] = c.NormEps, ["rope_scaling"] = null, ["rope_theta"] = c.RopeTheta,
        ["sliding_window"] = null, ["tie_word_embeddings"] = c.TieEmbeddings, ["torch_dtype"] = "float32",
        ["use_sliding_window"] = false, ["vocab_size"] = c.Vocab,
    };

    /// <summary>GPT-2's config names (n_embd, n_layer, …); no tie_word_embeddings key (its default is true), n_inner null.</summary>
    public static JsonObject Gpt2Config(BackboneConfig c, int vocab) => new()
    {
        ["activation_function"] = "gelu_new", ["architectures"] = new JsonArray("GPT2LMHeadModel"), ["attn_pdrop"] = 0.1,
        ["bos_token_id"] = vocab - 1, ["embd_pdrop"] = 0.1, ["eos_token_id"] = vocab - 1, ["initializer_range"] = 0.02,
        ["layer_norm_epsilon"] = c.NormEps, ["model_type"] = "gpt2", ["n_ctx"] = c.MaxPositions, ["n_embd"] = c.Hidden,
        ["n_head"] = c.Heads, ["n_inner"] = c.Intermediate == 4 * c.Hidden ? null : c.Intermediate, ["n_layer"] = c.Layers,
        ["n_positions"] = c.MaxPositions, ["resid_pdrop"] = 0.1, ["summary_type"] = "cls_index", ["vocab_size"] = vocab,
    };

    // ------------------------------------------------------------------ tokenizers

    /// <summary>Llama-3.2 style tokenizer.json: 258 tokens ("###" one of them) + 4 specials, among them the reserved pad token. 262 ids.</summary>
    public static void WriteLlamaTokenizer(string directory)
    {
        var files = new TinyHfFiles("###");
        int n = files.Size;
        files.WriteTokenizerJson(directory, TinyHfFiles.SplitThenByteLevel(TinyHfFiles.Llama3Regex),
            new JsonArray(TinyHfFiles.Added(n, "<|begin_of_text|>"), TinyHfFiles.Added(n + 1, "<|end_of_text|>"),
                          TinyHfFiles.Added(n + 2, "<|finetune_right_pad_id|>"), TinyHfFiles.Added(n + 3, "<|eot_id|>")),
            ignoreMerges: true, pairMerges: true);
        TinyHfFiles.Write(directory, "tokenizer_config.json", new JsonObject
        {
            ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>", ["tokenizer_class"] = "PreTrainedTokenizerFast",
        });
        TinyHfFiles.Write(directory, "generation_config.json", new JsonObject { ["bos_token_id"] = n, ["eos_token_id"] = new JsonArray(n + 1, n + 3) });
    }

    /// <summary>Qwen2 style: 258 tokens + &lt;|endoftext|&gt; (pad), &lt;|im_start|&gt;, &lt;|im_end|&gt; (EOS). 261 ids.</summary>
    public static void WriteQwenTokenizer(string directory)
    {
        var files = new TinyHfFiles("###");
        int n = files.Size;
        files.WriteTokenizerJson(directory, TinyHfFiles.SplitThenByteLevel(TinyHfFiles.Qwen2Regex),
            new JsonArray(TinyHfFiles.Added(n, "<|endoftext|>"), TinyHfFiles.Added(n + 1, "<|im_start|>"), TinyHfFiles.Added(n + 2, "<|im_end|>")),
            ignoreMerges: false, pairMerges: false, normalizer: new JsonObject { ["type"] = "NFC" });
        TinyHfFiles.Write(directory, "tokenizer_config.json", new JsonObject
        {
            ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>", ["tokenizer_class"] = "Qwen2Tokenizer",
        });
    }

    /// <summary>GPT-2 style vocab.json + merges.txt: 258 tokens + &lt;|endoftext|&gt; (EOS, no pad token), so [PAD] is appended: 260 ids (returned).</summary>
    public static int WriteGpt2Tokenizer(string directory)
    {
        var files = new TinyHfFiles("###");
        int n = files.Size;
        files.WriteVocabAndMerges(directory, new Dictionary<string, int> { ["<|endoftext|>"] = n });
        TinyHfFiles.Write(directory, "tokenizer_config.json", new JsonObject
        {
            ["bos_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>", ["tokenizer_class"] = "GPT2Tokenizer",
        });
        return n + 2; // with the [PAD] the loader appends
    }
}
