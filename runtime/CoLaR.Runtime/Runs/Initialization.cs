using CoLaR.Checkpoints;
using CoLaR.Modules;

namespace CoLaR.Runs;

/// <summary>Starting a run from existing weights.</summary>
public static class Initialization
{
    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="model"/>. A checkpoint of the same spec loads
    /// completely (heads and embeds_std included). A checkpoint of another spec loads the backbone only —
    /// the paper's recipe starts CoLaR from a CoT-trained backbone — and every backbone tensor must be
    /// present with the right shape; the new spec's heads start fresh. Returns a sentence saying what loaded.
    /// </summary>
    public static string FromCheckpoint(ReasonerModule model, string path)
    {
        using var file = Checkpoint.Load(path);
        file.Metadata.TryGetValue(ModelCheckpoint.SpecKey, out var fromSpec);
        file.Metadata.TryGetValue(ModelCheckpoint.FingerprintKey, out var fingerprint);
        if (fingerprint == model.Specification.Fingerprint)
        {
            ModelCheckpoint.Load(path, model);
            return $"initialised {model.Specification.Name} from {path} (spec '{fromSpec ?? "?"}', same weight layout: every weight)";
        }
        var backbone = model.Backbone.CheckpointTensors().ToList();
        var names = backbone.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
        ModelCheckpoint.LoadInto(backbone, file.Tensors, path, ignoreUnexpected: name => !names.Contains(name));
        int heads = file.Names.Count(n => !names.Contains(n));
        return $"initialised {model.Specification.Name}'s backbone from {path} (spec '{fromSpec ?? "?"}'; {names.Count} backbone tensors loaded" +
               (heads > 0 ? $", {heads} tensors of its other parts left out" : "") + ")";
    }
}
