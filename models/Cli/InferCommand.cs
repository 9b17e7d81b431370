using System.CommandLine;
using System.Text.Json.Nodes;
using CoLaR.Data;
using CoLaR.Inference;
using CoLaR.Native;
using CoLaR.Runs;
using CoLaR.Training;
using TorchSharp;

namespace CoLaR.Models.Cli;

/// <summary>
/// `colar infer --checkpoint FILE [--compression C] [--config FILE] "question…" [key=value ...]`: the answer and #L.
/// Options are those of `colar eval` (<see cref="EvalSettings"/>, <see cref="RunOptions"/>); the effective ones are
/// printed to stderr, so stdout holds only the answer.
/// </summary>
public static class InferCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by `colar train` (or `colar import`, with --model)", Required = true };
        var compression = new Option<int?>("--compression") { Description = "Thinking speed c (latent steps compress c tokens each; default 1)" };
        var temperature = new Option<double?>("--latent-temperature") { Description = "Latent sampling temperature (0: the mean; default 1)" };
        var seed = new Option<int?>("--seed") { Description = "Random seed for latent sampling (default 0)" };
        var device = new Option<string?>("--device") { Description = "cpu (default), cuda, cuda:N or auto" };
        var precision = new Option<string?>("--precision") { Description = "auto (bf16 on CUDA, fp32 on CPU; default), fp32 or bf16" };
        var model = new Option<string?>("--model") { Description = "Run the checkpoint as this declared model (needed for an imported backbone)" };
        var config = new Option<string?>("--config") { Description = "JSON file of options (keys as in key=value)" };
        var words = new Argument<string[]>("question") { Description = "The question to answer, and any key=value option overrides (e.g. latent_temperature=0)", Arity = ArgumentArity.OneOrMore };
        var command = new Command("infer", "Answer one question, printing the answer and the number of reasoning steps #L")
            { checkpoint, compression, temperature, seed, device, precision, model, config, words };
        command.SetAction(parse => Failures.Guard(() =>
        {
            var (question, overrides) = SplitOverrides(parse.GetValue(words) ?? []);
            var values = Options.Layered(parse.GetValue(config), overrides,
                ("compression", parse.GetValue(compression)?.ToString()),
                ("latent_temperature", parse.GetValue(temperature)?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("seed", parse.GetValue(seed)?.ToString()), ("device", parse.GetValue(device)), ("precision", parse.GetValue(precision)),
                ("model", parse.GetValue(model)));
            var (settings, run) = EvalCommand.Bind(values);
            Console.Error.WriteLine("config: " + new JsonObject { ["eval"] = RunConfig.ToJson(settings), ["run"] = RunConfig.ToJson(run) }.ToJsonString());
            var torchDevice = TorchDevices.Resolve(run.Device);
            var loaded = LoadedModel.Open(parse.GetValue(checkpoint)!, torchDevice, settings.Model, Precisions.Resolve(run.Precision, torchDevice));
            int c = settings.Compression is { Length: > 0 } cs ? cs[0] : 1;
            var (min, max) = loaded.Spec.CompressionRange;
            if (c < min || c > max) throw new ArgumentException($"--compression {c} is outside the range {loaded.Spec.Name} was trained on ({min}..{max}; checkpoint {loaded.Checkpoint})");
            if (question.Length == 0) throw new ArgumentException("infer needs a question");
            var sample = new Sample(question, Array.Empty<string>(), "");
            using var generator = new torch.Generator((ulong)settings.Seed, loaded.Device);
            var result = loaded.Model.Generate(new GenerationRequest(new[] { loaded.Layout.Encode(sample) }, loaded.Layout, loaded.Device,
                c, settings.LatentTemperature, EvalCommand.ParseDecoding(settings.Decoding), generator,
                MaxSteps: EvalCommand.Cap(settings.MaxLatents), MaxAnswerTokens: EvalCommand.Cap(settings.MaxAnswerTokens)));
            var a = result.Answers[0];
            if (a.ReasoningText is { Length: > 0 } r) Console.WriteLine($"reasoning: {r.ReplaceLineEndings(" ")}");
            Console.WriteLine($"answer: {a.Answer}");
            Console.WriteLine($"#L: {a.Steps}{(a.StoppedByModel ? "" : " (stopped at the step limit)")}");
            return 0;
        }));
        return command;
    }

    /// <summary>Positional words: <c>key=value</c> tokens naming a known option are overrides; the rest, joined, is the question.</summary>
    public static (string Question, List<string> Overrides) SplitOverrides(IEnumerable<string> words)
    {
        var known = RunConfig.Keys<EvalSettings>().Concat(RunConfig.Keys<RunOptions>()).ToHashSet(StringComparer.Ordinal);
        var question = new List<string>();
        var overrides = new List<string>();
        foreach (var word in words)
        {
            int eq = word.IndexOf('=');
            bool isOverride = eq > 0 && !word.Contains(' ') && known.Contains(word[..eq].Replace('-', '_'));
            (isOverride ? overrides : question).Add(word);
        }
        return (string.Join(" ", question).Trim(), overrides);
    }
}
