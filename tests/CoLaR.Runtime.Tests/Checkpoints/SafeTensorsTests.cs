using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CoLaR.Checkpoints;
using TorchSharp;
using Xunit;
using static CoLaR.Runtime.Tests.Checkpoints.TestUtil;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Checkpoints;

public sealed class SafeTensorsTests : IDisposable
{
    readonly TempDir _dir = new();

    public SafeTensorsTests() => Torch();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EveryDtypeRoundTripsBitForBit()
    {
        var path = _dir.File("all.safetensors");
        var tensors = AllDtypes();
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["note"] = "héllo \"quoted\" \n line" });

        using var file = SafeTensors.Load(path);
        Assert.Equal(tensors.Select(t => t.Name), file.Names);
        Assert.Equal("héllo \"quoted\" \n line", file.Metadata["note"]);
        foreach (var (name, tensor) in tensors)
        {
            AssertSameBits(tensor, file[name], name);
            Assert.Equal(DeviceType.CPU, file[name].device_type);
        }
        Assert.Equal(ScalarType.BFloat16, file["bf16"].dtype); // kept, not converted
        Assert.Equal(ScalarType.Float16, file["f16"].dtype);
    }

    [Fact]
    public void LargeTensorsGoThroughInChunks()
    {
        var path = _dir.File("chunked.safetensors");
        var saved = SafeTensors.ChunkBytes;
        try
        {
            SafeTensors.ChunkBytes = 24; // not a multiple of 8: chunks end mid-way through the data
            var tensors = AllDtypes();
            SafeTensors.Write(path, tensors);
            using var file = SafeTensors.Load(path);
            foreach (var (name, tensor) in tensors) AssertSameBits(tensor, file[name], name);
        }
        finally
        {
            SafeTensors.ChunkBytes = saved;
        }
    }

    [Fact]
    public void WrittenFileFollowsTheFormat()
    {
        var path = _dir.File("format.safetensors");
        SafeTensors.Write(path, new[] { ("b", torch.tensor(new float[] { 1, 2 })), ("a", torch.tensor(new long[] { 7 })) },
            new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + n) % 8); // data region aligned
        using var json = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var root = json.RootElement;
        Assert.Equal("v", root.GetProperty("__metadata__").GetProperty("k").GetString());
        Assert.Equal("F32", root.GetProperty("b").GetProperty("dtype").GetString());
        Assert.Equal("[0,8]", root.GetProperty("b").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[8,16]", root.GetProperty("a").GetProperty("data_offsets").GetRawText());
        Assert.Equal(8 + n + 16, bytes.Length);
        Assert.Equal(1f, BitConverter.ToSingle(bytes, (int)(8 + n)));
        Assert.Equal(7L, BitConverter.ToInt64(bytes, (int)(8 + n + 8)));
    }

    [Fact]
    public void ReadsAHandMadeFileWithOffsetsOutOfOrderAndPadding()
    {
        // Tensors listed in another order than their data, header padded with spaces: both allowed.
        var data = new byte[12];
        BitConverter.TryWriteBytes(data.AsSpan(0), 1.5f);
        BitConverter.TryWriteBytes(data.AsSpan(4), 2.5f);
        BitConverter.TryWriteBytes(data.AsSpan(8), -3);
        var path = Write("hand.safetensors", Raw(
            """{"second":{"dtype":"I32","shape":[],"data_offsets":[8,12]},"first":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"U8","shape":[0],"data_offsets":[12,12]}}     """, data));
        using var file = SafeTensors.Load(path);
        Assert.Equal(new[] { "second", "first", "z" }, file.Names);
        Assert.Equal(new[] { 1.5f, 2.5f }, file["first"].data<float>().ToArray());
        Assert.Equal(-3, file["second"].item<int>());
        Assert.Empty(file["second"].shape);
        Assert.Equal(new long[] { 0 }, file["z"].shape);
    }

    [Fact]
    public void IncludeFilterSkipsTensorsWithoutAllocatingThem()
    {
        var path = _dir.File("filter.safetensors");
        SafeTensors.Write(path, AllDtypes());
        using var file = SafeTensors.Load(path, name => name.StartsWith('i'));
        Assert.Equal(new[] { "i64", "i32", "i16", "i8" }, file.Names);
        Assert.Throws<KeyNotFoundException>(() => file["f32"]);
    }

    [Fact]
    public void WriterRefusesWhatTheFormatCannotHold()
    {
        var path = _dir.File("bad.safetensors");
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, new[] { ("a", torch.ones(1)), ("a", torch.ones(1)) })).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, new[] { ("__metadata__", torch.ones(1)) })).Message);
        Assert.Contains("ComplexFloat32", Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, new[] { ("c", torch.ones(2, ScalarType.ComplexFloat32)) })).Message);
    }

    // ------------------------------------------------------------ header lies

    const string OneF32 = """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";

    string Write(string name, byte[] bytes)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    CheckpointException Bad(byte[] bytes, string expected, string? tensor = null)
    {
        var path = Write("lie.safetensors", bytes);
        var e = Refused(path, () => SafeTensors.Load(path).Dispose());
        Assert.Contains(expected, e.Message);
        if (tensor is not null)
        {
            Assert.Contains($"'{tensor}'", e.Message);
            Assert.Equal(tensor, e.TensorName);
        }
        // The header-only read gives the same verdict (except for data checks such as BOOL values).
        return e;
    }

    [Fact]
    public void TensorBeyondTheDataRegion() =>
        Bad(Raw("""{"model.norm.weight":{"dtype":"F32","shape":[256],"data_offsets":[1024,2048]},"a":{"dtype":"U8","shape":[1024],"data_offsets":[0,1024]}}""", new byte[1500]),
            "tensor 'model.norm.weight' claims bytes 1024..2048 but the file's data region has 1500 bytes", "model.norm.weight");

    [Fact]
    public void TruncatedData() => Bad(Raw(OneF32, new byte[5]), "claims bytes 0..8 but the file's data region has 5 bytes", "w");

    [Fact]
    public void ShapeDisagreesWithOffsets() =>
        Bad(Raw("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}""", new byte[8]), "shape [2, 2] of F32 needs 16 bytes but data_offsets 0..8 span 8", "w");

    [Fact]
    public void HugeShapeDoesNotOverflow() =>
        Bad(Raw("""{"w":{"dtype":"F64","shape":[4611686018427387904,4611686018427387904,16],"data_offsets":[0,8]}}""", new byte[8]), "more than 2^63", "w");

    [Fact]
    public void OverlappingTensors() =>
        Bad(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]),
            "tensors 'a' (bytes 0..8) and 'b' (bytes 4..12) overlap", "b");

    [Fact]
    public void GapBetweenTensors() =>
        Bad(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""", new byte[20]),
            "bytes 8..12 of the data region belong to no tensor", "b");

    [Fact]
    public void BytesAfterTheLastTensor() => Bad(Raw(OneF32, new byte[10]), "the data region has 10 bytes but the tensors account for only 8");

    [Fact]
    public void HeaderLengthBeyondTheFile() => Bad(Raw(OneF32, new byte[8], lengthField: ulong.MaxValue), "the header length field says 18446744073709551615 bytes but only");

    [Fact]
    public void HeaderLengthZero() => Bad(Raw("", Array.Empty<byte>()), "the header length is 0");

    [Fact]
    public void FileShorterThanTheLengthField() => Bad(new byte[] { 1, 2, 3 }, "the file has 3 bytes, fewer than the 8-byte header length");

    [Fact]
    public void EmptyFile() => Bad(Array.Empty<byte>(), "the file has 0 bytes");

    [Fact]
    public void BadJson() => Bad(Raw("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]""", new byte[8]), "the header is not valid JSON");

    [Fact]
    public void JsonThatIsNotAnObject() => Bad(Raw("[1, 2]", Array.Empty<byte>()), "the header is a JSON array, not an object");

    [Fact]
    public void InvalidUtf8()
    {
        var bytes = Raw("{\"wX\":1}", Array.Empty<byte>());
        bytes[Array.IndexOf(bytes, (byte)'X')] = 0xff;
        Bad(bytes, "not valid UTF-8");
    }

    [Fact]
    public void UnknownDtype() =>
        Bad(Raw("""{"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}""", new byte[8]), "dtype 'F8_E4M3' is unknown or unsupported (supported: F32, F16", "w");

    [Fact]
    public void DtypeNotAString() => Bad(Raw("""{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}""", new byte[4]), "dtype is a JSON number, not a string", "w");

    [Fact]
    public void NegativeDimension() =>
        Bad(Raw("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", new byte[8]), "shape dimension 0 (-2) is not a non-negative integer", "w");

    [Fact]
    public void FractionalDimension() =>
        Bad(Raw("""{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", new byte[8]), "shape dimension 0 (2.5) is not a non-negative integer", "w");

    [Fact]
    public void OffsetsNotAPair() =>
        Bad(Raw("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}""", new byte[8]), "data_offsets ([0,8,9]) is not a [begin, end] pair", "w");

    [Fact]
    public void OffsetsReversed() =>
        Bad(Raw("""{"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}""", new byte[8]), "data_offsets end 0 is before begin 8", "w");

    [Fact]
    public void MissingField() => Bad(Raw("""{"w":{"dtype":"F32","shape":[2]}}""", new byte[8]), "field 'data_offsets' is missing", "w");

    [Fact]
    public void UnknownField() =>
        Bad(Raw("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"strides":[1]}}""", new byte[8]), "unknown field 'strides'", "w");

    [Fact]
    public void DuplicateTensor() =>
        Bad(Raw("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]), "tensor 'w' appears twice", "w");

    [Fact]
    public void MetadataValueNotAString() =>
        Bad(Raw("""{"__metadata__":{"epoch":3},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]), "metadata 'epoch' is a JSON number; metadata values must be strings");

    [Fact]
    public void MetadataNotAnObject() => Bad(Raw("""{"__metadata__":"x"}""", Array.Empty<byte>()), "\"__metadata__\" is a JSON string");

    [Fact]
    public void BoolBytesMustBeZeroOrOne() =>
        Bad(Raw("""{"flags":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}""", new byte[] { 1, 0, 2 }), "tensor 'flags' is BOOL but byte 2 of it is 2", "flags");

    [Fact]
    public void ControlCharactersInNamesStayOnOneLine()
    {
        var e = Bad(Raw("{\"line\\nbreak\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]), "needs 12 bytes");
        Assert.Contains("'line\\u000abreak'", e.Message);
    }

    [Fact]
    public void MissingFileIsACheckpointException()
    {
        var path = _dir.File("nope.safetensors");
        var e = Refused(path, () => SafeTensors.Load(path));
        Assert.Equal(CheckpointErrorKind.Io, e.Kind);
        Assert.Contains("no such file", e.Message);
    }

    [Fact]
    public void HeaderOnlyReadValidatesToo()
    {
        var path = Write("lie.safetensors", Raw(OneF32, new byte[5]));
        Assert.Contains("claims bytes 0..8", Refused(path, () => SafeTensors.ReadHeader(path)).Message);

        var good = Write("good.safetensors", Raw(OneF32, new byte[8]));
        var header = SafeTensors.ReadHeader(good);
        Assert.Equal(8, header.DataLength);
        Assert.Equal("[2]", Assert.Single(header.Entries).ShapeText);
    }
}
