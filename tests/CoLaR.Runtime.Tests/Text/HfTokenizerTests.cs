using System.Text.Json.Nodes;
using CoLaR.Runtime.Tests.Data;
using CoLaR.Text;
using Xunit;

namespace CoLaR.Runtime.Tests.Text;

/// <summary>Loading tiny tokenizers written in each backbone family's real file format.</summary>
public class HfTokenizerTests
{
    static readonly string[] Words = [" the", " think", " step", "Question", "###", "123", " hello"];

    static readonly string[] RoundTrip =
    [
        "Question: Mia has 12,345 apples. Let's think step by step:",
        "(Thinking speed: 3)###Answer:42",
        "  spaces,\ttabs\r\nand ### hashes #### ",
        "héllo ✓ naïve café — 漢字",
    ];

    [Fact]
    public void Llama3_tokenizer_json()
    {
        using var dir = new DataFiles.TempDirectory();
        var files = new TinyHfFiles(Words);
        files.AddUnreachable(" world");
        int n = files.Size;
        files.WriteTokenizerJson(dir.Path, TinyHfFiles.SplitThenByteLevel(TinyHfFiles.Llama3Regex),
            new JsonArray(TinyHfFiles.Added(n, "<|begin_of_text|>"), TinyHfFiles.Added(n + 1, "<|end_of_text|>"), TinyHfFiles.Added(n + 2, "<|eot_id|>")),
            ignoreMerges: true, pairMerges: true);
        TinyHfFiles.Write(dir.Path, "tokenizer_config.json", new JsonObject
        {
            ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>", ["tokenizer_class"] = "PreTrainedTokenizerFast",
        });
        TinyHfFiles.Write(dir.Path, "generation_config.json", new JsonObject { ["bos_token_id"] = n, ["eos_token_id"] = new JsonArray(n + 1, n + 2) });
        TinyHfFiles.Write(dir.Path, "config.json", new JsonObject { ["model_type"] = "llama", ["vocab_size"] = n + 3 });

        var tokenizer = HfTokenizer.Load(dir.Path);
        Assert.Equal("llama3", tokenizer.Family);
        Assert.Equal($"llama3 ({dir.File("tokenizer.json")})", tokenizer.Name);
        Assert.Equal(n + 2, tokenizer.EosId);
        Assert.Equal([n + 2, n + 1], tokenizer.StopIds);
        Assert.True(tokenizer.PadAdded);
        Assert.Equal(n + 3, tokenizer.PadId);
        Assert.Equal(n + 4, tokenizer.VocabularySize);
        Assert.Equal(files.Id("###"), tokenizer.ThinkId);

        // Llama-3 groups digits by three; ignore_merges makes a whole-piece token win even without a merge path.
        Assert.Equal([files.Id("123"), files.Id("4"), files.Id("5")], tokenizer.Encode("12345"));
        Assert.Equal([files.Id(" world")], tokenizer.Encode(" world"));
        Assert.Equal([files.Id(" hello"), n + 2, files.Id(" the")], tokenizer.Encode(" hello<|eot_id|> the"));
        Assert.Equal([tokenizer.ThinkId], tokenizer.Encode("###"));
        AssertRoundTrips(tokenizer);
        Assert.Equal(" hello", tokenizer.Decode([tokenizer.PadId, files.Id(" hello"), tokenizer.EosId, tokenizer.PadId]));
        Assert.Equal("<|begin_of_text|> hello", tokenizer.Decode([n, files.Id(" hello")]));
    }

    [Fact]
    public void Qwen2_tokenizer_json_with_its_own_pad_token()
    {
        using var dir = new DataFiles.TempDirectory();
        var files = new TinyHfFiles(Words);
        int n = files.Size;
        files.WriteTokenizerJson(dir.Path, TinyHfFiles.SplitThenByteLevel(TinyHfFiles.Qwen2Regex),
            new JsonArray(TinyHfFiles.Added(n, "<|endoftext|>"), TinyHfFiles.Added(n + 1, "<|im_start|>"), TinyHfFiles.Added(n + 2, "<|im_end|>"), TinyHfFiles.Added(n + 3, "<think>", special: false)),
            ignoreMerges: false, pairMerges: false, normalizer: new JsonObject { ["type"] = "NFC" });
        TinyHfFiles.Write(dir.Path, "tokenizer_config.json", new JsonObject
        {
            ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>", ["tokenizer_class"] = "Qwen2Tokenizer",
        });

        var tokenizer = HfTokenizer.Load(dir.Path);
        Assert.Equal("qwen2", tokenizer.Family);
        Assert.Equal(n + 2, tokenizer.EosId);
        Assert.False(tokenizer.PadAdded);
        Assert.Equal(n, tokenizer.PadId);
        Assert.Equal(n + 4, tokenizer.VocabularySize);
        // Qwen: every digit its own token (the "123" token is never used).
        Assert.Equal("12345".Select(c => files.Id(c.ToString())), tokenizer.Encode("12345"));
        Assert.Equal([n + 3, files.Id(" think")], tokenizer.Encode("<think> think"));
        AssertRoundTrips(tokenizer);
    }

    [Fact]
    public void Qwen3_vocab_and_merges_with_added_tokens_decoder()
    {
        using var dir = new DataFiles.TempDirectory();
        var files = new TinyHfFiles(Words);
        int n = files.Size;
        files.WriteVocabAndMerges(dir.Path);
        TinyHfFiles.Write(dir.Path, "tokenizer_config.json", new JsonObject
        {
            ["eos_token"] = "<|endoftext|>",
            ["pad_token"] = "<|endoftext|>", // pad = EOS would mask the EOS label: a [PAD] is added instead
            ["tokenizer_class"] = "Qwen2Tokenizer",
            ["added_tokens_decoder"] = new JsonObject
            {
                [n.ToString()] = new JsonObject { ["content"] = "<|endoftext|>", ["special"] = true },
                [(n + 1).ToString()] = new JsonObject { ["content"] = "<|im_end|>", ["special"] = true },
            },
        });
        TinyHfFiles.Write(dir.Path, "config.json", new JsonObject { ["model_type"] = "qwen3" });

        var tokenizer = HfTokenizer.Load(dir.Path);
        Assert.Equal("qwen3", tokenizer.Family);
        Assert.Equal($"qwen3 ({dir.File("vocab.json")})", tokenizer.Name);
        Assert.Equal(n, tokenizer.EosId);
        Assert.True(tokenizer.PadAdded);
        Assert.Equal(n + 2, tokenizer.PadId);
        Assert.Equal(n + 3, tokenizer.VocabularySize);
        Assert.Equal(5, tokenizer.Encode("12345").Count);
        Assert.Equal([n + 1], tokenizer.Encode("<|im_end|>"));
        AssertRoundTrips(tokenizer);
    }

    [Fact]
    public void Gpt2_vocab_and_merges()
    {
        using var dir = new DataFiles.TempDirectory();
        var files = new TinyHfFiles(Words);
        int n = files.Size;
        files.WriteVocabAndMerges(dir.Path, new Dictionary<string, int> { ["<|endoftext|>"] = n });
        TinyHfFiles.Write(dir.Path, "config.json", new JsonObject { ["model_type"] = "gpt2" });

        var tokenizer = HfTokenizer.Load(dir.Path);
        Assert.Equal("gpt2", tokenizer.Family);
        Assert.Equal(n, tokenizer.EosId);
        Assert.True(tokenizer.PadAdded);
        Assert.Equal(n + 1, tokenizer.PadId);
        Assert.Equal(n + 2, tokenizer.VocabularySize);
        // GPT-2 keeps a number together with its leading space: " 12345" is one piece, merged to "123" + "4" + "5".
        Assert.Equal([files.Id(" "), files.Id("123"), files.Id("4"), files.Id("5")], tokenizer.Encode(" 12345"));
        Assert.Equal([files.Id(" the"), n], tokenizer.Encode(" the<|endoftext|>"));
        AssertRoundTrips(tokenizer);
    }

    [Fact]
    public void Think_separator_must_be_a_single_token()
    {
        using var dir = new DataFiles.TempDirectory();
        var files = new TinyHfFiles(" the");
        files.WriteVocabAndMerges(dir.Path, new Dictionary<string, int> { ["<|endoftext|>"] = files.Size });
        var e = Assert.Throws<InvalidDataException>(() => HfTokenizer.Load(dir.Path));
        Assert.Contains($"gpt2 ({dir.File("vocab.json")})", e.Message);
        Assert.Contains("encodes \"###\" as 3 ids", e.Message);
    }

    [Fact]
    public void Missing_and_unsupported_files_are_named()
    {
        using var dir = new DataFiles.TempDirectory();
        var missing = Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load(dir.Path));
        Assert.Contains(dir.Path, missing.Message);
        Assert.Contains("tokenizer.json", missing.Message);
        Assert.Contains("vocab.json + merges.txt", missing.Message);

        File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0}");
        Assert.Contains("merges.txt is missing", Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load(dir.Path)).Message);
        Assert.Throws<DirectoryNotFoundException>(() => HfTokenizer.Load(dir.File("nope")));

        var files = new TinyHfFiles(Words);
        files.WriteTokenizerJson(dir.Path, TinyHfFiles.SplitThenByteLevel(TinyHfFiles.Llama3Regex), [], ignoreMerges: false, pairMerges: true, modelType: "Unigram");
        Assert.Contains("model type 'Unigram'", Assert.Throws<NotSupportedException>(() => HfTokenizer.Load(dir.Path)).Message);

        File.WriteAllText(dir.File("tokenizer.json"), "{ \"model\": ");
        var invalid = Assert.Throws<InvalidDataException>(() => HfTokenizer.Load(dir.Path));
        Assert.StartsWith(dir.File("tokenizer.json") + ":", invalid.Message);
    }

    [Fact]
    public void Factory_chooses_by_spec()
    {
        Assert.Same(EmbeddedTokenizer.Instance, Tokenizers.For("embedded", null));
        Assert.Same(EmbeddedTokenizer.Instance, Tokenizers.For("Embedded", "/ignored"));
        Assert.Contains("no checkpoint directory", Assert.Throws<ArgumentException>(() => Tokenizers.For("checkpoint", null)).Message);
        Assert.Contains("\"embedded\" or \"checkpoint\"", Assert.Throws<ArgumentException>(() => Tokenizers.For("sentencepiece", null)).Message);

        using var dir = new DataFiles.TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => Tokenizers.For("checkpoint", dir.Path));
        Assert.Contains(dir.Path, e.Message);

        var files = new TinyHfFiles(Words);
        files.WriteVocabAndMerges(dir.Path, new Dictionary<string, int> { ["<|endoftext|>"] = files.Size });
        Assert.IsType<HfTokenizer>(Tokenizers.For("checkpoint", dir.Path));
    }

    static void AssertRoundTrips(ITextTokenizer tokenizer)
    {
        foreach (var text in RoundTrip)
        {
            var ids = tokenizer.Encode(text);
            Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabularySize - 1));
            Assert.DoesNotContain(tokenizer.PadId, ids);
            Assert.Equal(text, tokenizer.Decode(ids));
        }
        var random = new Random(5);
        for (int i = 0; i < 100; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(40)).Select(_ => (char)random.Next(1, 128)).ToArray());
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        }
    }
}
