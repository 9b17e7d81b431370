using CoLaR.Checkpoints;
using CoLaR.Import;
using CoLaR.Modules;
using CoLaR.Native;
using CoLaR.Text;
using CoLaR.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Runs;

/// <summary>A trained model ready to answer: the module (on its device, in its precision), its prompt layout, and where it came from.</summary>
public sealed record LoadedModel(ReasonerModule Model, PromptLayout Layout, Device Device, string Checkpoint, IReadOnlyDictionary<string, string> Metadata)
{
    public ReasonerSpec Spec => Model.Specification;

    /// <summary>The dtype the model computes in (float32, or bfloat16 with precision bf16).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>
    /// Opens a checkpoint for inference. Its metadata names the spec (which must be declared in a loaded assembly),
    /// unless <paramref name="model"/> names one: then a checkpoint of another spec, or an imported backbone
    /// (<c>colar import</c>), loads as the backbone of that model (<see cref="Initialization.FromCheckpoint"/>).
    /// A LoRA checkpoint's base is loaded first. The tokenizer is the spec's: the embedded one, or the files beside
    /// the checkpoint (else beside its base). With <paramref name="precision"/> bf16 the whole model is cast to
    /// bfloat16 after loading (inference only: nothing is trained).
    /// </summary>
    public static LoadedModel Open(string checkpoint, Device device, string? model = null, Precision precision = Precision.Fp32)
    {
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"{checkpoint}: checkpoint not found");
        var header = SafeTensors.ReadHeader(checkpoint);
        ReasonerModule module;
        IReadOnlyDictionary<string, string> metadata;
        if (model is not null)
        {
            module = ModelRegistry.Get(model).Create();
            Console.Error.WriteLine(Initialization.FromCheckpoint(module, checkpoint));
            metadata = header.Metadata;
        }
        else
        {
            if (!header.Metadata.TryGetValue(ModelCheckpoint.SpecKey, out var specName))
                throw new CheckpointException(checkpoint, header.Metadata.TryGetValue(HfImporter.BackboneKey, out var backbone)
                    ? $"is an imported backbone ('{backbone}') with no heads: name the model to run on it with --model (see `colar list`)"
                    : "it names no model spec (metadata 'colar.spec'); was it written by `colar train` or `colar import`?", CheckpointErrorKind.Format);
            module = ModelRegistry.Get(specName).Create();
            metadata = ModelCheckpoint.Load(checkpoint, module);
        }
        var dtype = precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        if (dtype != ScalarType.Float32) module.to(dtype); // cast before moving: half the bytes cross to the device
        module.to(device);
        module.eval();
        var tokenizer = Tokenizers.For(module.Specification.Tokenizer, TokenizerDirectory(checkpoint, module));
        return new LoadedModel(module, new PromptLayout(tokenizer), device, checkpoint, metadata) { DType = dtype };
    }

    /// <summary>Where a checkpoint's tokenizer files are: beside it, else beside its LoRA base.</summary>
    public static string TokenizerDirectory(string checkpoint, ReasonerModule model)
    {
        var own = Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;
        if (TokenizerFiles.Present(own) || model.Base is null) return own;
        var baseDirectory = Path.GetDirectoryName(model.Base.Path)!;
        return TokenizerFiles.Present(baseDirectory) ? baseDirectory : own;
    }
}
