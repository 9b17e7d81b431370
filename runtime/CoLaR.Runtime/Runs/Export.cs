using System.Text.Json;
using CoLaR.Checkpoints;
using CoLaR.Import;
using CoLaR.Modules;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Runs;

/// <summary>What <see cref="Export"/> wrote.</summary>
public sealed record ExportResult(string Output, string Spec, int Tensors, int MergedAdapters, IReadOnlyList<string> CopiedFiles);

/// <summary>
/// <c>colar export</c>: merge-and-export. A LoRA checkpoint holds only adapters and heads over a base file; exporting
/// loads both, folds every adapter into the weight it adapts (W += alpha/rank · B·A, <see cref="Backbone.MergeLora"/>)
/// and writes weights that stand alone.
/// </summary>
public static class Export
{
    /// <summary>
    /// A self-contained checkpoint of the same spec: every tensor (merged backbone, adapters with B = 0 so they add
    /// nothing, heads), no <c>colar.base</c>. It loads wherever the original did (eval, infer, <c>--init</c>) and
    /// computes the same function; the tokenizer files are copied beside it.
    /// </summary>
    public static ExportResult Merged(string checkpoint, string output)
    {
        using var model = Open(checkpoint, out var metadata);
        int adapters = model.Backbone.LoraAdapters.Count;
        var copied = CopyTokenizer(checkpoint, model, Path.GetDirectoryName(Path.GetFullPath(output))!); // found beside the base, if not beside the checkpoint
        model.Backbone.MergeLora();
        model.Base = null;
        var extra = new Dictionary<string, string>(StringComparer.Ordinal) { ["colar.merged_from"] = Path.GetFullPath(checkpoint) };
        if (metadata.TryGetValue("colar.step", out var step)) extra["colar.step"] = step;
        ModelCheckpoint.Save(output, model, extra);
        return new ExportResult(output, model.Specification.Name, SafeTensors.ReadHeader(output).Entries.Count, adapters, copied);
    }

    /// <summary>
    /// The backbone alone in Hugging Face layout — <c>model.safetensors</c> (adapters merged, Hugging Face names,
    /// <paramref name="dtype"/>), <c>config.json</c> for the family, and the tokenizer files — so transformers, or
    /// <c>colar import</c>, can read it. Heads (latent head, projector) have no place in that layout and are left out.
    /// </summary>
    public static ExportResult HuggingFace(string checkpoint, string directory, ScalarType dtype = ScalarType.Float32)
    {
        using var model = Open(checkpoint, out _);
        int adapters = model.Backbone.LoraAdapters.Count;
        model.Backbone.MergeLora();
        Directory.CreateDirectory(directory);
        var copied = CopyTokenizer(checkpoint, model, directory).Where(f => Path.GetFileName(f) != "config.json").ToList();
        string torchDtype = dtype switch { ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", _ => "float32" };
        File.WriteAllText(Path.Combine(directory, "config.json"),
            HfConfig.ToJson(model.Specification.Backbone, torchDtype).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        using var scope = torch.NewDisposeScope();
        var tensors = model.Backbone.CheckpointTensors().Select(t => (t.Name, t.Tensor.detach().to(dtype))).ToList();
        // Plain safetensors as transformers writes it (metadata "format": "pt"), atomically.
        var path = Path.Combine(directory, HfWeights.SingleFile);
        var temp = path + ".tmp";
        SafeTensors.Write(temp, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.Move(temp, path, overwrite: true);
        return new ExportResult(path, model.Specification.Name, tensors.Count, adapters, copied);
    }

    static ReasonerModule Open(string checkpoint, out IReadOnlyDictionary<string, string> metadata)
    {
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"{checkpoint}: checkpoint not found");
        var header = SafeTensors.ReadHeader(checkpoint);
        if (!header.Metadata.TryGetValue(ModelCheckpoint.SpecKey, out var spec))
            throw new CheckpointException(checkpoint, "names no model spec (metadata 'colar.spec'): export takes a checkpoint written by `colar train`", CheckpointErrorKind.Format);
        var model = ModelRegistry.Get(spec).Create();
        metadata = ModelCheckpoint.Load(checkpoint, model);
        return model;
    }

    static IReadOnlyList<string> CopyTokenizer(string checkpoint, ReasonerModule model, string to)
    {
        var from = LoadedModel.TokenizerDirectory(checkpoint, model);
        return TokenizerFiles.Present(from) ? TokenizerFiles.Copy(from, to) : [];
    }
}
