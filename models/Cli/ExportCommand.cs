using System.CommandLine;
using CoLaR.Runs;
using static TorchSharp.torch;

namespace CoLaR.Models.Cli;

/// <summary>
/// `colar export --checkpoint FILE (--out FILE | --hf DIR [--dtype bf16])`: merge-and-export. LoRA adapters are folded
/// into the weights they adapt; `--out` writes a self-contained checkpoint of the same spec (no base needed),
/// `--hf` the backbone in Hugging Face layout (model.safetensors, config.json, tokenizer files).
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by `colar train` (a LoRA checkpoint loads its base)", Required = true };
        var output = new Option<string?>("--out") { Description = "Write a merged, self-contained checkpoint of the same spec here" };
        var hf = new Option<string?>("--hf") { Description = "Write the merged backbone in Hugging Face layout into this folder" };
        var dtype = new Option<string>("--dtype") { Description = "Hugging Face export dtype: fp32, bf16 or fp16", DefaultValueFactory = _ => "fp32" };
        var command = new Command("export", "Merge LoRA adapters into the weights and export them (our checkpoint, or Hugging Face layout)")
            { checkpoint, output, hf, dtype };
        command.SetAction(parse => Failures.Guard(() =>
        {
            var source = parse.GetValue(checkpoint)!;
            string? outPath = parse.GetValue(output), hfDir = parse.GetValue(hf);
            if (outPath is null && hfDir is null) throw new ArgumentException("export needs --out FILE (merged checkpoint) or --hf DIR (Hugging Face layout), or both");
            // Parsed first: a typo in --dtype must not cost the --out export that comes before it.
            var type = parse.GetValue(dtype)!.ToLowerInvariant() switch
            {
                "fp32" or "float32" => ScalarType.Float32,
                "bf16" or "bfloat16" => ScalarType.BFloat16,
                "fp16" or "float16" => ScalarType.Float16,
                var other => throw new ArgumentException($"--dtype '{other}' is not fp32, bf16 or fp16"),
            };
            if (outPath is not null)
            {
                var r = Export.Merged(source, outPath);
                Console.WriteLine($"merged {r.MergedAdapters} LoRA adapter{(r.MergedAdapters == 1 ? "" : "s")} of {r.Spec}: wrote {r.Output} ({r.Tensors} tensors, no base needed)");
            }
            if (hfDir is not null)
            {
                var r = Export.HuggingFace(source, hfDir, type);
                Console.WriteLine($"wrote {r.Output} ({r.Tensors} backbone tensors, {r.MergedAdapters} adapters merged), config.json and {r.CopiedFiles.Count} tokenizer files; heads are not part of that layout");
            }
            return 0;
        }));
        return command;
    }
}
