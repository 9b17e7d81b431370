using System.CommandLine;
using CoLaR.Data;

namespace CoLaR.Models.Cli;

/// <summary>`colar data synth|check`: make synthetic datasets in the field's formats, or validate a data file.</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var kind = new Option<string>("--kind") { Description = "words (GSM8k-Aug-style word problems) or mult (iCoT multiplication)", DefaultValueFactory = _ => "words" };
        var count = new Option<int>("--count") { Description = "Number of samples", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed", DefaultValueFactory = _ => 0 };
        var digits = new Option<int>("--digits") { Description = "Digits per operand (mult)", DefaultValueFactory = _ => 4 };
        var minSteps = new Option<int>("--min-steps") { Description = "Fewest reasoning steps (words)", DefaultValueFactory = _ => 2 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Most reasoning steps (words)", DefaultValueFactory = _ => 3 };
        var maxOperand = new Option<int>("--max-operand") { Description = "Largest number in a question (words)", DefaultValueFactory = _ => 20 };
        var maxValue = new Option<int>("--max-value") { Description = "Largest intermediate result (words)", DefaultValueFactory = _ => 99 };
        var maxFactor = new Option<int>("--max-factor") { Description = "Largest factor of \"k times as many\" and most shares (words)", DefaultValueFactory = _ => 3 };
        var output = new Option<string>("--out") { Description = "Output file (.txt, .json or .jsonl)", Required = true };
        var synth = new Command("synth", "Generate a seeded synthetic dataset") { kind, count, seed, digits, minSteps, maxSteps, maxOperand, maxValue, maxFactor, output };
        synth.SetAction(parse => Failures.Guard(() =>
        {
            int n = parse.GetValue(count), s = parse.GetValue(seed);
            var samples = parse.GetValue(kind)!.ToLowerInvariant() switch
            {
                "words" => SyntheticData.WordProblems(n, new WordProblemOptions
                {
                    MinSteps = parse.GetValue(minSteps), MaxSteps = parse.GetValue(maxSteps),
                    MaxOperand = parse.GetValue(maxOperand), MaxValue = parse.GetValue(maxValue), MaxFactor = parse.GetValue(maxFactor),
                }, s),
                "mult" => SyntheticData.Multiplication(n, parse.GetValue(digits), parse.GetValue(digits), s),
                var other => throw new ArgumentException($"--kind '{other}' is not words or mult"),
            };
            DatasetWriter.Write(parse.GetValue(output)!, samples);
            Console.WriteLine($"wrote {samples.Count} samples to {parse.GetValue(output)}");
            return 0;
        }));

        var file = new Argument<string>("file") { Description = "A data file to validate" };
        var check = new Command("check", "Read a data file and report its size, or the first problem with file and line") { file };
        check.SetAction(parse => Failures.Guard(() =>
        {
            var samples = DatasetReader.Read(parse.GetValue(file)!);
            Console.WriteLine($"{parse.GetValue(file)}: {samples.Count} samples, {samples.Average(x => x.Steps.Count):F1} steps on average");
            return 0;
        }));
        return new Command("data", "Synthesise or check datasets") { synth, check };
    }
}
