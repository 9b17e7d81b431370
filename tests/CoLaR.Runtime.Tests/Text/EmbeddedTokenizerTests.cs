using System.Text;
using CoLaR.Data;
using CoLaR.Runtime.Tests.Data;
using CoLaR.Text;
using Xunit;

namespace CoLaR.Runtime.Tests.Text;

public class EmbeddedTokenizerTests
{
    static readonly EmbeddedTokenizer Tokenizer = EmbeddedTokenizer.Instance;

    [Fact]
    public void Size_constant_matches_the_built_vocabulary()
    {
        Assert.Equal(EmbeddedVocabulary.Size, Tokenizer.VocabularySize);
        Assert.Equal(EmbeddedVocabulary.Size, new EmbeddedTokenizer().VocabularySize);
        // The embedded default backbone (models/Backbones/TinyLlama.cs) has Vocab = 512.
        Assert.InRange(EmbeddedVocabulary.Size, EmbeddedVocabulary.FirstByteId + 256, 512);
        Assert.Equal("[PAD]", Tokenizer.TokenOf(Tokenizer.PadId));
        Assert.Equal("[EOS]", Tokenizer.TokenOf(Tokenizer.EosId));
        Assert.Equal("###", Tokenizer.TokenOf(Tokenizer.ThinkId));
        Assert.Equal(3, new[] { Tokenizer.PadId, Tokenizer.EosId, Tokenizer.ThinkId }.Distinct().Count());
    }

    [Fact]
    public void Byte_level_alphabet_follows_gpt2()
    {
        Assert.Equal('\u0120', ByteLevel.CharOf((byte)' '));
        Assert.Equal('\u010A', ByteLevel.CharOf((byte)'\n'));
        Assert.Equal('\u0100', ByteLevel.CharOf(0));
        Assert.Equal('a', ByteLevel.CharOf((byte)'a'));
        Assert.Equal('\u0143', ByteLevel.CharOf(0xAD));
        Assert.Equal(256, Enumerable.Range(0, 256).Select(b => ByteLevel.CharOf((byte)b)).Distinct().Count());
    }

    [Theory]
    [InlineData("###")]
    [InlineData("(Thinking speed: 3)###")]
    [InlineData("step:)###")]
    [InlineData("a###b")]
    [InlineData(" ### ")]
    public void Think_separator_is_one_token_wherever_it_appears(string text)
    {
        var ids = Tokenizer.Encode(text);
        Assert.Equal(1, ids.Count(id => id == Tokenizer.ThinkId));
        Assert.Equal(text, Tokenizer.Decode(ids));
    }

    [Fact]
    public void Four_hashes_are_separator_plus_hash()
    {
        Assert.Equal([Tokenizer.ThinkId, EmbeddedVocabulary.FirstByteId + '#'], Tokenizer.Encode("####"));
    }

    [Fact]
    public void Every_generator_and_prompt_word_is_one_token()
    {
        foreach (var word in EmbeddedVocabulary.Words) Assert.Single(Tokenizer.Encode(" " + word));
        foreach (var word in EmbeddedVocabulary.BareWords) Assert.Single(Tokenizer.Encode(word));
        // Words seen in generated text, as the pre-tokenizer cuts it.
        foreach (var sample in SyntheticData.WordProblems(300, new WordProblemOptions { MaxSteps = 6 }, 17))
            foreach (var word in sample.Question.Split(' ', '.', '?').Where(w => w.Length > 0 && char.IsLetter(w[0])))
                Assert.Single(Tokenizer.Encode(" " + word));
        Assert.Equal(2, Tokenizer.Encode(" Let's").Count); // " Let" + "'s"
    }

    [Fact]
    public void Numbers_cost_one_token_per_digit()
    {
        var ids = Tokenizer.Encode("12,345");
        Assert.Equal(6, ids.Count);
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }.Select(d => EmbeddedVocabulary.FirstByteId + '0' + d), ids.Where((_, i) => i != 2));
        Assert.Equal(["<<", "1", "6", "-", "3", "=", "1", "3", ">>"], Tokenizer.Encode("<<16-3=13>>").Select(id => Tokenizer.TokenOf(id)));
    }

    [Fact]
    public void Typical_synthetic_sample_is_compact()
    {
        var layout = new PromptLayout(Tokenizer);
        var sample = SyntheticData.WordProblems(1, null, 1)[0];
        var encoded = layout.Encode(sample);
        // One token per word, digit and punctuation mark: "Question: Max has 9 apples. He now has 4 times ..." is 47 tokens.
        Assert.Equal(47, encoded.Question.Length);
        Assert.Equal(layout.QuestionText(sample.Question), Tokenizer.Decode(encoded.Question));
        Assert.Equal(Tokenizer.ThinkId, encoded.Answer[0]);
        Assert.Equal(Tokenizer.EosId, encoded.Answer[^1]);
        Assert.Equal("###Answer:108", Tokenizer.Decode(encoded.Answer));
        Assert.Equal(["(", "Thinking", "\u0120speed", ":", "\u0120", "3", ")"], layout.Speed(3).Select(id => Tokenizer.TokenOf(id)));
    }

    [Fact]
    public void Round_trips_any_ascii_text()
    {
        var random = new Random(99);
        for (int i = 0; i < 300; i++)
        {
            var chars = new char[random.Next(0, 80)];
            for (int k = 0; k < chars.Length; k++) chars[k] = (char)random.Next(0, 128);
            var text = new string(chars);
            Assert.Equal(text, Tokenizer.Decode(Tokenizer.Encode(text)));
        }
        foreach (var text in (string[])["[PAD] and [EOS] are text", "Let's think step by step:", "  two  spaces\n\nnewlines\r\n", "'S 'LL 're"])
        {
            var ids = Tokenizer.Encode(text);
            Assert.DoesNotContain(Tokenizer.PadId, ids);
            Assert.DoesNotContain(Tokenizer.EosId, ids);
            Assert.Equal(text, Tokenizer.Decode(ids));
        }
    }

    [Fact]
    public void Decode_skips_pad_and_eos_and_unknown_ids()
    {
        var ids = new List<int> { Tokenizer.PadId, Tokenizer.PadId };
        ids.AddRange(Tokenizer.Encode("Answer:42"));
        ids.Add(Tokenizer.EosId);
        ids.Add(Tokenizer.VocabularySize + 5);
        Assert.Equal("Answer:42", Tokenizer.Decode(ids));
    }

    [Fact]
    public void Real_files_encode_within_the_vocabulary_and_decode_back()
    {
        foreach (var path in new[] { DataFiles.Gsm8kValid, DataFiles.Mult4x4Valid, DataFiles.Mult5x5Valid })
        {
            foreach (var line in File.ReadLines(path, Encoding.UTF8))
            {
                var ids = Tokenizer.Encode(line);
                Assert.All(ids, id => Assert.InRange(id, EmbeddedVocabulary.ThinkId, Tokenizer.VocabularySize - 1));
                Assert.Equal(line, Tokenizer.Decode(ids));
            }
        }
    }

    [Fact]
    public void Gsm8k_validation_sample_token_counts()
    {
        var layout = new PromptLayout(Tokenizer);
        var sample = DatasetReader.Read(DataFiles.Gsm8kValid)[0];
        var encoded = layout.Encode(sample);
        Assert.Equal(140, encoded.Question.Length); // 191 characters: common words fall back to letters
        Assert.Equal(["Question", ":", "\u0120", "J", "o", "h", "n"], encoded.Question.Take(7).Select(id => Tokenizer.TokenOf(id)));
        Assert.Equal(34, encoded.Steps.Sum(s => s.Length));
        Assert.Equal(["<<", "4", "-", "2", "=", "2", ">>"], encoded.Steps[0].Select(id => Tokenizer.TokenOf(id)));
    }
}
