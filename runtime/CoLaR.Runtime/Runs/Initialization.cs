using CoLaR.Checkpoints;
using CoLaR.Import;
using CoLaR.Modules;

namespace CoLaR.Runs;

/// <summary>Starting a run from existing weights.</summary>
public static class Initialization
{
    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="model"/>. A checkpoint of the same spec loads
    /// completely (heads, adapters and embeds_std included; a LoRA checkpoint's base first). Any other checkpoint
    /// loads the backbone only (<see cref="ModelCheckpoint.LoadBackbone(ReasonerModule, string)"/>) — an imported Hugging Face backbone
    /// (<c>colar import</c>), or another spec's checkpoint, as the paper's recipe starts CoLaR from a CoT-trained
    /// backbone — and the new spec's heads (and adapters) start fresh. A LoRA model then records the file as its
    /// <see cref="ReasonerModule.Base"/>: its checkpoints hold only the trainable tensors and name this file.
    /// Returns a sentence saying what loaded.
    /// </summary>
    public static string FromCheckpoint(ReasonerModule model, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found");
        var metadata = SafeTensors.ReadHeader(path).Metadata;
        metadata.TryGetValue(ModelCheckpoint.SpecKey, out var fromSpec);
        metadata.TryGetValue(ModelCheckpoint.FingerprintKey, out var fingerprint);
        var name = model.Specification.Name;
        if (fingerprint == model.Specification.Fingerprint)
        {
            ModelCheckpoint.Load(path, model);
            return $"initialised {name} from {path} (spec '{fromSpec ?? "?"}', same weight layout: every weight" +
                   (model.Base is { } b ? $"; frozen base weights from {b.Path})" : ")");
        }
        int loaded = ModelCheckpoint.LoadBackbone(model, path);
        if (model.Backbone.Lora is not null)
            model.Base = new BaseCheckpoint(Path.GetFullPath(path), metadata.GetValueOrDefault(Checkpoint.Sha256Key, ""));
        string what = metadata.TryGetValue(HfImporter.BackboneKey, out var backbone) && fromSpec is null
            ? $"imported backbone '{backbone}'{(metadata.TryGetValue(HfImporter.SourceKey, out var source) ? $" from {source}" : "")}"
            : $"spec '{fromSpec ?? "?"}'";
        return $"initialised {name}'s backbone from {path} ({what}; {loaded} backbone tensors loaded" +
               (model.Backbone.Lora is { } lora ? $"; frozen, with fresh LoRA adapters {lora.Describe()}" : "") + ")";
    }
}
