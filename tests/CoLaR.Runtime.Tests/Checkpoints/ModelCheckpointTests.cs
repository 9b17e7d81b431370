using CoLaR.Checkpoints;
using CoLaR.Modules;
using TorchSharp;
using Xunit;
using static CoLaR.Runtime.Tests.Checkpoints.TestUtil;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Checkpoints;

public sealed class ModelCheckpointTests : IDisposable
{
    readonly TempDir _dir = new();

    public ModelCheckpointTests() => Torch();

    public void Dispose() => _dir.Dispose();

    static Dictionary<string, byte[]> Weights(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => Bits(p.parameter));

    static void AssertSameWeights(nn.Module expected, nn.Module actual)
    {
        var a = Weights(expected);
        var b = Weights(actual);
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach (var (name, bits) in a) Assert.True(bits.AsSpan().SequenceEqual(b[name]), $"parameter {name} differs");
    }

    [Fact]
    public void ReasonerRoundTripsWithEmbedsStd()
    {
        var path = _dir.File("model.safetensors");
        var saved = new TestReasoner { EmbedsStd = 0.1234567890123456789 };
        var info = ModelCheckpoint.Save(path, saved, new Dictionary<string, string> { ["step"] = "1200" });

        var loaded = new TestReasoner(); // different random initialisation
        Assert.NotEqual(Bits(saved.Backbone.EmbeddingTable), Bits(loaded.Backbone.EmbeddingTable));
        var metadata = ModelCheckpoint.Load(path, loaded);

        AssertSameWeights(saved, loaded); // includes the fused qkv / gate_up parameters, loaded through views
        Assert.Equal(BitConverter.DoubleToInt64Bits(saved.EmbedsStd), BitConverter.DoubleToInt64Bits(loaded.EmbedsStd));
        Assert.Equal("1200", metadata["step"]);
        Assert.Equal(nameof(TestReasoner), metadata[ModelCheckpoint.SpecKey]);
        Assert.Equal(saved.Specification.Fingerprint, metadata[ModelCheckpoint.FingerprintKey]);
        Assert.Equal(info.Sha256, metadata[Checkpoint.Sha256Key]);

        using var file = Checkpoint.Load(path);
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", file.Names); // checkpoint names, not module names
        Assert.Equal(new long[] { 16, 32 }, file["model.layers.1.self_attn.k_proj.weight"].shape); // 2 kv heads x 8
    }

    [Fact]
    public void NaNEmbedsStdRoundTrips()
    {
        var path = _dir.File("model.safetensors");
        ModelCheckpoint.Save(path, new TestReasoner());
        var loaded = new TestReasoner { EmbedsStd = 5 };
        ModelCheckpoint.Load(path, loaded);
        Assert.True(double.IsNaN(loaded.EmbedsStd));
    }

    [Fact]
    public void Gpt2TransposedViewsRoundTrip()
    {
        var path = _dir.File("gpt2.safetensors");
        var saved = new TestGpt2Reasoner();
        ModelCheckpoint.Save(path, saved);
        var loaded = new TestGpt2Reasoner();
        ModelCheckpoint.Load(path, loaded);
        AssertSameWeights(saved, loaded);
        using var file = Checkpoint.Load(path);
        Assert.Equal(new long[] { 32, 96 }, file["transformer.h.0.attn.c_attn.weight"].shape); // Conv1D layout [in, out]
    }

    [Fact]
    public void OtherSpecIsRefusedWithBothFingerprints()
    {
        var path = _dir.File("model.safetensors");
        var saved = new TestReasoner();
        ModelCheckpoint.Save(path, saved);
        var other = new TestReasonerWideHead();
        var before = Weights(other);

        var e = Refused(path, () => ModelCheckpoint.Load(path, other));
        Assert.Equal(CheckpointErrorKind.Mismatch, e.Kind);
        Assert.Equal(
            $"checkpoint {path} was saved from spec 'TestReasoner' (fingerprint {saved.Specification.Fingerprint}) " +
            $"but the model is 'TestReasonerWideHead' ({other.Specification.Fingerprint})", e.Message);
        Assert.Equal(before.Keys, Weights(other).Keys);
        Assert.True(before.All(kv => kv.Value.AsSpan().SequenceEqual(Weights(other)[kv.Key])), "a refused load changed the model");
    }

    /// <summary>A file with the model's spec metadata but other tensors, as a buggy or hand-edited writer would produce.</summary>
    string Forge(TestReasoner model, Func<List<(string Name, Tensor Tensor)>, List<(string Name, Tensor Tensor)>> edit)
    {
        var path = _dir.File("forged.safetensors");
        using var scope = torch.NewDisposeScope();
        Checkpoint.Save(path, edit(model.CheckpointTensors().ToList()), ModelCheckpoint.SpecMetadata(model));
        return path;
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        var model = new TestReasoner();
        var path = Forge(model, list => list.Where(t => t.Name != "model.norm.weight").ToList());
        var e = Refused(path, () => ModelCheckpoint.Load(path, new TestReasoner()));
        Assert.Equal($"{path}: lacks 1 tensor the model needs: 'model.norm.weight'", e.Message);
    }

    [Fact]
    public void UnexpectedTensorIsNamed()
    {
        var model = new TestReasoner();
        var path = Forge(model, list => list.Append(("lm_head.weight", torch.zeros(64, 32))).ToList());
        var e = Refused(path, () => ModelCheckpoint.Load(path, new TestReasoner()));
        Assert.Equal($"{path}: has 1 tensor the model does not: 'lm_head.weight'", e.Message);
    }

    [Fact]
    public void WrongShapeIsNamedWithBothShapes()
    {
        var model = new TestReasoner();
        var path = Forge(model, list => list.Select(t => t.Name == "latent_head.fc1.weight" ? (t.Name, torch.zeros(32, 31)) : t).ToList());
        var target = new TestReasoner();
        var before = Weights(target);
        var e = Refused(path, () => ModelCheckpoint.Load(path, target));
        Assert.Equal($"{path}: tensor 'latent_head.fc1.weight' has shape [32, 31] but the model expects [32, 32]", e.Message);
        Assert.Equal("latent_head.fc1.weight", e.TensorName);
        Assert.True(before.All(kv => kv.Value.AsSpan().SequenceEqual(Weights(target)[kv.Key])), "a refused load changed the model");
    }

    [Fact]
    public void DtypeIsConvertedToTheParameters()
    {
        var model = new TestReasoner();
        var path = Forge(model, list => list.Select(t => (t.Name, t.Tensor.to(ScalarType.BFloat16))).ToList());
        var loaded = new TestReasoner();
        ModelCheckpoint.Load(path, loaded);
        foreach (var ((name, expected), (_, actual)) in model.CheckpointTensors().Zip(loaded.CheckpointTensors()))
        {
            Assert.Equal(ScalarType.Float32, actual.dtype);
            AssertSameBits(expected.to(ScalarType.BFloat16).to(ScalarType.Float32), actual, name);
        }
    }

    [Fact]
    public void LoadIntoIsAllOrNothing()
    {
        var a = torch.zeros(2);
        var b = torch.zeros(3);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.LoadInto(
            new[] { ("a", a), ("b", b) },
            new Dictionary<string, Tensor> { ["a"] = torch.ones(2), ["b"] = torch.ones(4) }, "source.safetensors"));
        Assert.Equal("source.safetensors: tensor 'b' has shape [4] but the model expects [3]", e.Message);
        Assert.Equal(0f, a.sum().item<float>()); // 'a' was not copied before 'b' failed

        ModelCheckpoint.LoadInto(new[] { ("a", a) }, new Dictionary<string, Tensor> { ["a"] = torch.ones(2), ["rotary.inv_freq"] = torch.ones(1) },
            "hf.safetensors", ignoreUnexpected: name => name.StartsWith("rotary.", StringComparison.Ordinal));
        Assert.Equal(2f, a.sum().item<float>());

        var many = Assert.Throws<CheckpointException>(() => ModelCheckpoint.LoadInto(
            Enumerable.Range(0, 8).Select(i => ($"t{i}", torch.zeros(1))), new Dictionary<string, Tensor>(), "empty.safetensors"));
        Assert.Equal("empty.safetensors: lacks 8 tensors the model needs: 't0', 't1', 't2', 't3', 't4' and 3 more", many.Message);
    }

    [Fact]
    public void ReservedExtraMetadataIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelCheckpoint.Save(_dir.File("m.safetensors"), new TestReasoner(),
            new Dictionary<string, string> { [ModelCheckpoint.FingerprintKey] = "x" }));
        Assert.Contains("reserved", e.Message);
    }

    [Fact]
    public void RawSafetensorsWithoutSpecIsRefused()
    {
        var path = _dir.File("hf.safetensors");
        var model = new TestReasoner();
        using (var scope = torch.NewDisposeScope()) Checkpoint.Save(path, model.CheckpointTensors());
        var e = Refused(path, () => ModelCheckpoint.Load(path, model));
        Assert.Contains("has no colar.fingerprint metadata", e.Message);
    }
}
