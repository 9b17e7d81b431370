using CoLaR.Checkpoints;
using CoLaR.Modules;
using CoLaR.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Runs;

/// <summary>A trained model ready to answer: the module (on its device), its prompt layout, and where it came from.</summary>
public sealed record LoadedModel(ReasonerModule Model, PromptLayout Layout, Device Device, string Checkpoint, IReadOnlyDictionary<string, string> Metadata)
{
    public ReasonerSpec Spec => Model.Specification;

    /// <summary>
    /// Opens a checkpoint: its metadata names the spec (which must be declared in a loaded assembly), the
    /// weights are verified and loaded, and the tokenizer is the spec's (the embedded one, or the files
    /// beside the checkpoint).
    /// </summary>
    public static LoadedModel Open(string checkpoint, Device device)
    {
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"{checkpoint}: checkpoint not found");
        var header = SafeTensors.ReadHeader(checkpoint);
        if (!header.Metadata.TryGetValue(ModelCheckpoint.SpecKey, out var specName))
            throw new CheckpointException(checkpoint, "it names no model spec (metadata 'colar.spec'); was it written by `colar train` or `colar import`?", CheckpointErrorKind.Format);
        var model = ModelRegistry.Get(specName).Create();
        var metadata = ModelCheckpoint.Load(checkpoint, model);
        model.to(device);
        model.eval();
        var tokenizer = Tokenizers.For(model.Specification.Tokenizer, Path.GetDirectoryName(Path.GetFullPath(checkpoint)));
        return new LoadedModel(model, new PromptLayout(tokenizer), device, checkpoint, metadata);
    }
}
