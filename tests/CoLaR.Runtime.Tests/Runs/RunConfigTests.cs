using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using CoLaR.Data;
using CoLaR.Runs;
using CoLaR.Training;
using Xunit;
using Xunit.Abstractions;

namespace CoLaR.Runtime.Tests.Runs;

/// <summary>The config reader (JSON files and key=value overrides): clear errors naming the source, and a fuzz (issue 8.5).</summary>
public class RunConfigTests(ITestOutputHelper output)
{
    static (SftOptions Sft, RunOptions Run) BindAll(IReadOnlyDictionary<string, (string Value, string Source)> values)
    {
        var used = new HashSet<string>();
        var sft = RunConfig.Bind(new SftOptions(), values, used);
        var run = RunConfig.Bind(new RunOptions(), values, used);
        RunConfig.RejectUnknown(values, used, RunConfig.Keys<SftOptions>().Concat(RunConfig.Keys<RunOptions>()));
        sft.Validate();
        run.Validate();
        return (sft, run);
    }

    [Fact]
    public void JsonFile_BindsEveryKind_WithAliasesCommentsAndNulls()
    {
        var values = RunConfig.ParseJson("""
            {
              // comments and trailing commas are fine
              "steps": 12, "lr": 5e-4, "skip_non_finite": true,
              "too_long": "truncate", "empty_reasoning": "keep", "compression": null, "device": "cpu",
            }
            """, "c.json");
        var (sft, run) = BindAll(values);
        Assert.Equal(12, sft.Steps);
        Assert.Equal(5e-4, sft.LearningRate);
        Assert.True(sft.SkipNonFinite);
        Assert.Null(sft.Compression);
        Assert.Equal(TooLongPolicy.Truncate, run.TooLong);
        Assert.Equal(EmptyReasoning.Keep, run.EmptyReasoning);
        Assert.Equal("c.json:3", values["learning_rate"].Source);
    }

    [Theory]
    [InlineData("batch_size=0", "option 'batch_size' must be at least 1 (is 0)")]
    [InlineData("seeds=0", "option 'seeds' must be at least 1 (is 0)")]
    [InlineData("limit=-1", "option 'limit' must be 0 (all) or more (is -1)")]
    [InlineData("compression=0", "option 'compression' must be 1 or more (is 0)")]
    [InlineData("latent_temperature=-0.5", "option 'latent_temperature' must be 0 (the mean) or more (is -0.5)")]
    public void EvalSettings_OutOfRange_AreRefused(string token, string expected)
    {
        var settings = RunConfig.Bind(new EvalSettings(), RunConfig.ParseOverrides([token]));
        var e = Assert.Throws<ConfigException>(settings.Validate);
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void SavedConfigs_ReadBackAsTheyWere_SoNoShortNameShadowsAnOption()
    {
        // A run saves its options as config.json; given back with --config they must mean the same. GRPO has both
        // "clip" (the PPO ratio clip) and "gradient_clip": a short name "clip" for the latter once made a saved RL
        // config unreadable ("given twice") and clip=0.1 on the command line set the wrong option.
        var grpo = new Training.Grpo.GrpoOptions { Clip = 0.1, GradientClip = 0.5, Steps = 7, LatentStdFloor = 0.25 };
        var values = RunConfig.ParseJson(RunConfig.ToJson(grpo).ToJsonString(), "config.json");
        var used = new HashSet<string>();
        Assert.Equal(grpo, RunConfig.Bind(new Training.Grpo.GrpoOptions(), values, used));
        RunConfig.RejectUnknown(values, used, RunConfig.Keys<Training.Grpo.GrpoOptions>());

        var sft = new SftOptions { Steps = 9, LearningRate = 3e-4, GradientClip = 0.5, Compression = 2 };
        var run = new RunOptions { Threads = 3, TooLong = TooLongPolicy.Skip };
        var json = RunConfig.ToJson(sft);
        foreach (var (key, value) in RunConfig.ToJson(run)) json[key] = value?.DeepClone();
        Assert.Equal((sft, run), BindAll(RunConfig.ParseJson(json.ToJsonString(), "config.json")));

        var fromCommandLine = RunConfig.Bind(new Training.Grpo.GrpoOptions(), RunConfig.ParseOverrides(["clip=0.3"]));
        Assert.Equal(0.3, fromCommandLine.Clip);
        Assert.Equal(new Training.Grpo.GrpoOptions().GradientClip, fromCommandLine.GradientClip);
    }

    [Theory]
    [InlineData("{\n \"steps\": \"many\"\n}", "option 'steps' (c.json:2): 'many' is not a valid whole number")]
    [InlineData("{\n \"steps\": 1.5\n}", "option 'steps' (c.json:2): '1.5' is not a valid whole number")]
    [InlineData("{\n \"steps\": 99999999999\n}", "option 'steps' (c.json:2): '99999999999' is not a valid whole number")]
    [InlineData("{\n\n \"learning_rate\": \"NaN\"\n}", "option 'learning_rate' (c.json:3): 'NaN' is not a valid finite number")]
    [InlineData("{\"learning_rate\": 1e999}", "option 'learning_rate' (c.json:1): '1e999' is not a valid finite number")]
    [InlineData("{\"too_long\": 1}", "option 'too_long' (c.json:1): '1' is not a valid value (reject, skip, truncate)")]
    [InlineData("{\"skip_non_finite\": \"perhaps\"}", "option 'skip_non_finite' (c.json:1): 'perhaps' is not a valid true/false value")]
    [InlineData("{\"steps\": [1, 2]}", "option 'steps' (c.json:1): '[1, 2]' is not a valid whole number")]
    [InlineData("{\"steps\": 1,\n \"lr\": 1, \"learning_rate\": 2}", "c.json:2: option 'learning_rate' is given twice")]
    [InlineData("{\"step\": 1}", "unknown option 'step' (c.json:1); did you mean 'steps'?")]
    [InlineData("[1]", "c.json:1: the config must be a JSON object of options")]
    [InlineData("", "c.json:1: the config file is empty")]
    [InlineData("{\n \"steps\": 1\n \"seed\": 2\n}", "c.json:3: not valid JSON")]
    [InlineData("{\"steps\": 1} {}", "c.json:1: not valid JSON")]
    [InlineData("{\"steps\": 0}", "option 'steps' must be at least 1 (is 0)")]
    [InlineData("{\"checkpoint_every\": 0}", "option 'checkpoint_every' must be at least 1 (is 0)")]
    [InlineData("{\"beta2\": 1}", "option 'beta2' must be in [0, 1) (is 1)")]
    [InlineData("{\"threads\": -1}", "option 'threads' must be 0 (libtorch's default) or more (is -1)")]
    [InlineData("{\"bad\\u0000key\": 1}", "unknown option 'bad\\u0000key'")]
    public void BadJson_IsOneConfigExceptionNamingFileLineAndKey(string json, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => BindAll(RunConfig.ParseJson(json, "c.json")));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("steps", "'steps' is not an option override; write key=value")]
    [InlineData("=5", "'=5' is not an option override")]
    [InlineData("batchsize=4", "unknown option 'batchsize' (command line); did you mean 'batch_size'?")]
    [InlineData("too_long=7", "option 'too_long' (command line): '7' is not a valid value (reject, skip, truncate)")]
    [InlineData("empty_reasoning=sometimes", "option 'empty_reasoning' (command line): 'sometimes' is not a valid value (keep, skip, error)")]
    public void BadOverride_IsOneConfigException(string token, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => BindAll(RunConfig.ParseOverrides([token])));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void MissingOrUnreadableFile_IsAConfigException()
    {
        var missing = Path.Combine(Path.GetTempPath(), "colar-no-such-dir", "config.json");
        Assert.Equal($"{missing}: config file not found", Assert.Throws<ConfigException>(() => RunConfig.ReadFile(missing)).Message);
        Assert.Throws<ConfigException>(() => RunConfig.ReadFile(Path.GetTempPath())); // a directory
    }

    [Fact]
    public void ToJson_WritesEnumsAsTheNamesAConfigAccepts_SoASavedConfigReadsBack()
    {
        var run = new RunOptions { TooLong = TooLongPolicy.Skip, EmptyReasoning = EmptyReasoning.Keep, Threads = 2 };
        var text = new JsonObject(RunConfig.ToJson(run).Concat(RunConfig.ToJson(new SftOptions { Steps = 7 })).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))).ToJsonString();
        Assert.Contains("\"too_long\":\"skip\"", text);
        var (sft, back) = BindAll(RunConfig.ParseJson(text, "saved.json"));
        Assert.Equal(run, back);
        Assert.Equal(7, sft.Steps);
    }

    const string Alphabet = "{}[]\",:/*\n\r\t \\u0123456789eE.+-_abcdefghijklmnopqrstuvwxyzNaInfity\u0000\u00e9\ud83d";

    static readonly string[] Values =
    [
        "0", "-1", "1", "2147483648", "-9223372036854775809", "1e999", "-1e-999", "NaN", "\"Infinity\"", "1.5", "0x10", "true", "false",
        "null", "\"\"", "\"skip\"", "\"truncate\"", "\"7\"", "\"reject \"", "[]", "[1,2]", "{}", "{\"a\":[{}]}", "\"\\u0000\"", "\"\\ud800\"",
        new string('9', 400), "\"" + new string('x', 5000) + "\"", new string('[', 100) + new string(']', 100),
    ];

    /// <summary>
    /// Issue 8.5: 1,000 mutated JSON config files (through the file reader, bytes and all) and 1,000 mutated override
    /// lists are read, bound, checked for unknown keys and validated: a run either gets options or one ConfigException;
    /// nothing else escapes, nothing hangs, and every message is one line.
    /// </summary>
    [Fact]
    public void Fuzz_OnlyConfigExceptionEverEscapes()
    {
        var random = new Random(20251128);
        var seedConfig = new JsonObject(RunConfig.ToJson(new SftOptions()).Concat(RunConfig.ToJson(new RunOptions()))
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))).ToJsonString(new() { WriteIndented = true });
        var seed = Encoding.UTF8.GetBytes(seedConfig.Replace("\"learning_rate\"", "// peak\n  \"lr\""));
        var dir = Path.Combine(Path.GetTempPath(), "colar-config-fuzz-" + Guid.NewGuid().ToString("n")[..8]);
        Directory.CreateDirectory(dir);
        var clock = Stopwatch.StartNew();
        int filesAccepted = 0, filesRefused = 0, overridesAccepted = 0, overridesRefused = 0;
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                var path = Path.Combine(dir, $"fuzz{i % 10}.json");
                File.WriteAllBytes(path, i % 2 == 0 ? MutateMembers(seedConfig, random, 1 + i % 3) : MutateJson(seed, random, 1 + i % 4));
                if (i == 0) File.WriteAllBytes(path, seed);
                if (Outcome(() => BindAll(RunConfig.ReadFile(path)), $"file mutation {i}")) filesAccepted++; else filesRefused++;
            }
            var keys = RunConfig.Keys<SftOptions>().Concat(RunConfig.Keys<RunOptions>()).Concat(["lr", "bs", "wd", "warmup"]).ToArray();
            for (int i = 0; i < 1000; i++)
            {
                var tokens = Enumerable.Range(0, random.Next(0, 5)).Select(_ => MutateToken(keys, random)).ToList();
                if (Outcome(() => BindAll(RunConfig.ParseOverrides(tokens)), $"overrides {string.Join(' ', tokens)}")) overridesAccepted++; else overridesRefused++;
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        output.WriteLine($"config files: {filesAccepted} accepted, {filesRefused} refused; override lists: {overridesAccepted} accepted, " +
                         $"{overridesRefused} refused; {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(filesAccepted > 50 && filesRefused > 300, "the file mutations should both keep and break configs");
        Assert.True(overridesAccepted > 50 && overridesRefused > 300, "the override mutations should both keep and break configs");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the fuzz took too long");
    }

    /// <summary>True when the options bound; false for a clean ConfigException; anything else fails the test.</summary>
    static bool Outcome(Func<(SftOptions, RunOptions)> bind, string what)
    {
        try
        {
            var (sft, run) = bind();
            _ = RunConfig.ToJson(sft).ToJsonString() + RunConfig.ToJson(run).ToJsonString(); // what a run prints and saves
            return true;
        }
        catch (ConfigException e)
        {
            if (Environment.GetEnvironmentVariable("COLAR_FUZZ_VERBOSE") is not null) Console.Error.WriteLine($"{what}: {e.Message}");
            Assert.False(e.Message.Contains('\n') || e.Message.Contains('\r'), $"{what}: multi-line message {e.Message}");
            Assert.True(e.Message.Length < 2000, $"{what}: a {e.Message.Length}-character message");
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} escaped: {e.Message}");
            return false;
        }
    }

    static readonly string[] GoodValues = ["3", "64", "0.001", "0.5", "\"cpu\"", "\"keep\"", "\"skip\"", "\"truncate\"", "false", "true", "null", "\"2\""];

    /// <summary>Mutations that keep the JSON well formed: values swapped for good or awkward ones, members dropped, doubled or renamed.</summary>
    static byte[] MutateMembers(string json, Random random, int mutations)
    {
        var lines = json.Split('\n').ToList();
        for (int m = 0; m < mutations; m++)
        {
            int at = random.Next(1, lines.Count - 1); // a member line (not the braces)
            var line = lines[at];
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string comma = line.TrimEnd().EndsWith(',') ? "," : "";
            switch (random.Next(6))
            {
                case 0 or 1: // another value: mostly good ones
                    var values = random.Next(3) == 0 ? Values : GoodValues;
                    lines[at] = line[..(colon + 1)] + " " + values[random.Next(values.Length)] + comma;
                    break;
                case 2 when lines.Count > 3: // drop a member (then fix a trailing comma before the closing brace)
                    lines.RemoveAt(at);
                    if (lines[^2].TrimEnd().EndsWith(',')) lines[^2] = lines[^2].TrimEnd().TrimEnd(',');
                    break;
                case 3: // the same key twice
                    lines.Insert(at, line.TrimEnd().TrimEnd(',') + ",");
                    break;
                case 4: // the key written with an alias, dashes, or a typo
                {
                    var key = line[(line.IndexOf('"') + 1)..line.IndexOf('"', line.IndexOf('"') + 1)];
                    var renamed = random.Next(3) switch
                    {
                        0 => new[] { "lr", "bs", "wd", "warmup" }[random.Next(4)],
                        1 => key.Replace('_', '-'),
                        _ => key.Length > 1 ? key.Remove(random.Next(key.Length), 1) : key + "x",
                    };
                    lines[at] = line.Replace($"\"{key}\"", $"\"{renamed}\"");
                    break;
                }
                default: // a comment line
                    lines.Insert(at, "  // " + Values[random.Next(Values.Length)].Replace("\n", " "));
                    break;
            }
        }
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    static byte[] MutateJson(byte[] input, Random random, int mutations)
    {
        var bytes = new List<byte>(input);
        for (int m = 0; m < mutations; m++)
        {
            int at = random.Next(bytes.Count + 1), last = Math.Min(at, bytes.Count - 1);
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0: // delete a short range
                    bytes.RemoveRange(last, Math.Min(random.Next(1, 8), bytes.Count - last));
                    break;
                case 1: // insert JSON-significant or odd characters
                    for (int k = random.Next(1, 4); k > 0; k--) bytes.InsertRange(at, Encoding.UTF8.GetBytes(Alphabet[random.Next(Alphabet.Length)].ToString()));
                    break;
                case 2 when bytes.Count > 0: // any byte, including invalid UTF-8
                    bytes[last] = (byte)random.Next(256);
                    break;
                case 3: // replace a value by an awkward one
                {
                    var text = Encoding.UTF8.GetString(bytes.ToArray());
                    int colon = text.IndexOf(':', random.Next(text.Length + 1));
                    if (colon < 0) break;
                    int end = text.IndexOfAny([',', '\n', '}'], colon + 1);
                    if (end < 0) end = text.Length;
                    text = text[..(colon + 1)] + " " + Values[random.Next(Values.Length)] + text[end..];
                    bytes = new List<byte>(Encoding.UTF8.GetBytes(text));
                    break;
                }
                case 4: // duplicate a short range (duplicate keys, doubled braces)
                {
                    if (bytes.Count == 0) break;
                    int from = random.Next(bytes.Count), count = Math.Min(random.Next(1, 40), bytes.Count - from);
                    bytes.InsertRange(at, bytes.GetRange(from, count));
                    break;
                }
                case 5 when bytes.Count > 0: // change a key's letter (typos)
                {
                    var quotes = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] == (byte)'"').ToArray();
                    if (quotes.Length == 0) break;
                    int q = quotes[random.Next(quotes.Length)];
                    if (q + 1 < bytes.Count) bytes[q + 1] = (byte)"abcdefghijklmnopqrstuvwxyz_-"[random.Next(28)];
                    break;
                }
                default: // truncate anywhere
                {
                    int keep = random.Next(bytes.Count + 1);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                    break;
                }
            }
        }
        return bytes.ToArray();
    }

    static string MutateToken(string[] keys, Random random)
    {
        string key = keys[random.Next(keys.Length)];
        string value = random.Next(3) switch
        {
            0 => Values[random.Next(Values.Length)].Trim('"'),
            1 => random.Next(-5, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => new[] { "reject", "skip", "truncate", "keep", "error", "cpu", "true", "off", "1e-4", "0.5", "1,2", "" }[random.Next(12)],
        };
        var token = key + "=" + value;
        switch (random.Next(6))
        {
            case 0: token = token.Replace("=", random.Next(2) == 0 ? "" : "=="); break;
            case 1: token = token.Insert(random.Next(token.Length + 1), Alphabet[random.Next(Alphabet.Length)].ToString()); break;
            case 2: token = token.Length > 0 ? token.Remove(random.Next(token.Length), 1) : token; break;
            case 3: token = token.Replace('_', '-'); break;
        }
        return token;
    }
}
