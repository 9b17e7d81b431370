using System.CommandLine;
using CoLaR.Data;
using CoLaR.Inference;
using CoLaR.Native;
using CoLaR.Runs;
using TorchSharp;

namespace CoLaR.Models.Cli;

/// <summary>`colar infer --checkpoint FILE --compression C "question…"`: the answer and #L.</summary>
public static class InferCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by `colar train`", Required = true };
        var compression = new Option<int>("--compression") { Description = "Thinking speed c (latent steps compress c tokens each)", DefaultValueFactory = _ => 1 };
        var temperature = new Option<double>("--latent-temperature") { Description = "Latent sampling temperature (0: the mean)", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { Description = "Random seed for latent sampling", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var question = new Argument<string>("question") { Description = "The question to answer" };
        var command = new Command("infer", "Answer one question, printing the answer and the number of reasoning steps #L")
            { checkpoint, compression, temperature, seed, device, question };
        command.SetAction(parse => Failures.Guard(() =>
        {
            var loaded = LoadedModel.Open(parse.GetValue(checkpoint)!, TorchDevices.Resolve(parse.GetValue(device)!));
            int c = parse.GetValue(compression);
            var (min, max) = loaded.Spec.CompressionRange;
            if (c < min || c > max) throw new ArgumentException($"--compression {c} is outside the range {loaded.Spec.Name} was trained on ({min}..{max})");
            var sample = new Sample(parse.GetValue(question)!, Array.Empty<string>(), "");
            using var generator = new torch.Generator((ulong)parse.GetValue(seed), loaded.Device);
            var result = loaded.Model.Generate(new GenerationRequest(new[] { loaded.Layout.Encode(sample) }, loaded.Layout, loaded.Device,
                c, parse.GetValue(temperature), AnswerDecoding.Greedy, generator));
            var a = result.Answers[0];
            if (a.ReasoningText is { Length: > 0 } r) Console.WriteLine($"reasoning: {r.ReplaceLineEndings(" ")}");
            Console.WriteLine($"answer: {a.Answer}");
            Console.WriteLine($"#L: {a.Steps}{(a.StoppedByModel ? "" : " (stopped at the step limit)")}");
            return 0;
        }));
        return command;
    }
}
