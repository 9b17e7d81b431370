using System.CommandLine;
using CoLaR.Import;
using CoLaR.Modules;

namespace CoLaR.Models.Cli;

/// <summary>
/// `colar import --hf DIR --out FILE.safetensors [--backbone NAME | --model NAME]`: a Hugging Face checkpoint
/// (Llama, Qwen2, Qwen3, GPT-2) → a backbone checkpoint every reasoner over that backbone starts from with
/// `colar train --init FILE` (see <see cref="HfImporter"/>). Everything is checked before anything is written.
/// </summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var hf = new Option<string>("--hf") { Description = "Hugging Face checkpoint folder: config.json, model.safetensors (or its sharded index), tokenizer files", Required = true };
        var output = new Option<string>("--out") { Description = "The checkpoint to write (tokenizer files are copied beside it)", Required = true };
        var backbone = new Option<string?>("--backbone") { Description = "The declared backbone it must fit (default: the one its config.json matches)" };
        var model = new Option<string?>("--model") { Description = "A declared model whose backbone it must fit" };
        var command = new Command("import", "Import Hugging Face weights (Llama, Qwen2, Qwen3, GPT-2) for a declared backbone; never loads pickle files")
            { hf, output, backbone, model };
        command.SetAction(parse => Failures.Guard(() =>
        {
            string? backboneName = parse.GetValue(backbone);
            if (parse.GetValue(model) is { } modelName)
            {
                var spec = ModelRegistry.Get(modelName).Spec;
                if (backboneName is not null && !string.Equals(backboneName, spec.Backbone.Name, StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"--model {modelName} is built on {spec.Backbone.Name}, not --backbone {backboneName}");
                backboneName = spec.Backbone.Name;
            }
            var r = HfImporter.Import(new ImportRequest { Source = parse.GetValue(hf)!, Output = parse.GetValue(output)!, Backbone = backboneName });
            var b = r.Backbone;
            Console.WriteLine($"imported {r.Config.Path} ({r.Config.ModelType}) as backbone {b.Name}: {b.Layers} layers, hidden {b.Hidden}, vocabulary {b.Vocab}");
            Console.WriteLine($"  {r.Tensors} tensors ({string.Join(", ", r.SourceDTypes)}, stored as read), embeds_std {r.EmbedsStd:G6}");
            Console.WriteLine($"  tokenizer: {r.Tokenizer ?? "none"}{(r.CopiedFiles.Count > 0 ? $" ({r.CopiedFiles.Count} files copied)" : "")}");
            foreach (var note in r.Notes) Console.WriteLine($"  note: {note}");
            Console.WriteLine($"wrote {r.Output}");
            var users = ModelRegistry.All.Where(e => e.Spec.Backbone.Name == b.Name).Select(e => e.Name).ToList();
            if (users.Count > 0) Console.WriteLine($"start a run from it: colar train --model {users[0]} --init {r.Output} --data … --out …  (models on {b.Name}: {string.Join(", ", users)})");
            return 0;
        }));
        return command;
    }
}
