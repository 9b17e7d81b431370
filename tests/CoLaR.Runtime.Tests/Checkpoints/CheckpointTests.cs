using System.Buffers.Binary;
using System.Text;
using CoLaR.Checkpoints;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static CoLaR.Runtime.Tests.Checkpoints.TestUtil;
using static TorchSharp.torch;

namespace CoLaR.Runtime.Tests.Checkpoints;

public sealed class CheckpointTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly ITestOutputHelper _output;

    public CheckpointTests(ITestOutputHelper output)
    {
        _output = output;
        Torch();
    }

    public void Dispose() => _dir.Dispose();

    static List<(string, Tensor)> Small(float scale = 1) => new()
    {
        ("a", torch.arange(0, 12, dtype: ScalarType.Float32).reshape(3, 4) * scale),
        ("b", torch.tensor(new long[] { 1, 2, 3 })),
        ("c", torch.ones(2, 2, dtype: ScalarType.BFloat16) * scale),
    };

    [Fact]
    public void SaveRecordsChecksumsAndLoadVerifiesThem()
    {
        var path = _dir.File("checkpoint.safetensors");
        var info = Checkpoint.Save(path, AllDtypes(), new Dictionary<string, string> { ["step"] = "42" });

        Assert.Equal(new FileInfo(path).Length, info.Bytes);
        using var file = Checkpoint.Load(path);
        Assert.Equal("42", file.Metadata["step"]);
        Assert.Equal("1", file.Metadata[Checkpoint.FormatKey]);
        Assert.Equal(info.Sha256, file.Metadata[Checkpoint.Sha256Key]);
        Assert.Equal(64, info.Sha256.Length);
        Assert.Equal(file.Header.DataLength.ToString(), file.Metadata[Checkpoint.DataBytesKey]);
        foreach (var (name, tensor) in AllDtypes()) AssertSameBits(tensor, file[name], name);
        Assert.Equal(info.Sha256, Checkpoint.Verify(path).Sha256);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp-*"));
    }

    [Fact]
    public void ReservedMetadataKeysAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Save(_dir.File("x.safetensors"), Small(), new Dictionary<string, string> { [Checkpoint.Sha256Key] = "x" }));
        Assert.Contains("reserved", e.Message);
        Assert.False(File.Exists(_dir.File("x.safetensors")));
    }

    [Fact]
    public void ChecksumMismatchIsRefusedAndNamesThePreviousCheckpoint()
    {
        var path = _dir.File("checkpoint.safetensors");
        Checkpoint.Save(path, Small(1));
        Checkpoint.Save(path, Small(2), keepPrevious: true);
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x10; // one bit in the data region
        File.WriteAllBytes(path, bytes);

        var e = Refused(path, () => Checkpoint.Load(path));
        Assert.Equal(CheckpointErrorKind.Checksum, e.Kind);
        Assert.StartsWith($"{path} is corrupt: checksum mismatch (expected ", e.Message);
        Assert.Contains($"the previous checkpoint is {path}.prev", e.Message);
        Assert.Throws<CheckpointException>(() => Checkpoint.Verify(path));

        using var unverified = Checkpoint.Load(path, verify: false); // the caller may still insist
        using var previous = Checkpoint.Load(path + ".prev");
        AssertSameBits(Small(1)[0].Item2, previous["a"]);
    }

    [Fact]
    public void HeaderEditThatKeepsTheFileWellFormedIsRefused()
    {
        var path = _dir.File("checkpoint.safetensors");
        Checkpoint.Save(path, new[] { ("h", torch.ones(4, dtype: ScalarType.Float16)) });
        var bytes = File.ReadAllBytes(path);
        var text = Encoding.UTF8.GetString(bytes);
        int at = text.IndexOf("\"F16\"", StringComparison.Ordinal);
        Encoding.UTF8.GetBytes("\"I16\"").CopyTo(bytes, at); // same length: still a valid file, different meaning
        File.WriteAllBytes(path, bytes);

        var e = Refused(path, () => Checkpoint.Load(path));
        Assert.Equal(CheckpointErrorKind.Checksum, e.Kind);
        Assert.Contains("header checksum mismatch", e.Message);
        Assert.Contains("there is no previous checkpoint", e.Message);
    }

    [Fact]
    public void TruncatedFinalFileIsDetected()
    {
        var path = _dir.File("checkpoint.safetensors");
        Checkpoint.Save(path, Small());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);

        var e = Refused(path, () => Checkpoint.Load(path));
        Assert.Equal(CheckpointErrorKind.Size, e.Kind);
        Assert.Contains("is corrupt: size mismatch: the data region should be", e.Message);
        Assert.Contains("truncated", e.Message);

        File.WriteAllBytes(path, bytes.Concat(new byte[3]).ToArray());
        Assert.Contains("extra bytes appended", Refused(path, () => Checkpoint.Load(path)).Message);
    }

    [Fact]
    public void CrashLeavesTheOldCheckpointLoadable()
    {
        var path = _dir.File("checkpoint.safetensors");
        Checkpoint.Save(path, Small(1));
        // A save that died half-way: its temporary file holds half a checkpoint; the target was never touched.
        var half = File.ReadAllBytes(path)[..40];
        File.WriteAllBytes(path + ".tmp-999999999", half);
        File.WriteAllBytes(Checkpoint.TempPath(path), half);

        using (var file = Checkpoint.Load(path))
            AssertSameBits(Small(1)[0].Item2, file["a"]);

        // The next save replaces the target and its own leftover temp file; an old temp of a dead process goes too.
        File.SetLastWriteTimeUtc(path + ".tmp-999999999", DateTime.UtcNow.AddHours(-2));
        File.WriteAllBytes(path + ".tmp-999999998", half); // recent: could be a save in progress elsewhere, kept
        Checkpoint.Save(path, Small(2));
        using (var file = Checkpoint.Load(path))
            AssertSameBits(Small(2)[0].Item2, file["a"]);
        Assert.False(File.Exists(Checkpoint.TempPath(path)));
        Assert.False(File.Exists(path + ".tmp-999999999"));
        Assert.True(File.Exists(path + ".tmp-999999998"));
    }

    [Fact]
    public void KeepPreviousKeepsTheReplacedFile()
    {
        var path = _dir.File("sub/dir/checkpoint.safetensors"); // directories are created
        Checkpoint.Save(path, Small(1), keepPrevious: true);
        Assert.False(File.Exists(path + ".prev"));
        Checkpoint.Save(path, Small(2), keepPrevious: true);
        Checkpoint.Save(path, Small(3), keepPrevious: true);
        using var current = Checkpoint.Load(path);
        using var previous = Checkpoint.Load(path + ".prev");
        AssertSameBits(Small(3)[0].Item2, current["a"]);
        AssertSameBits(Small(2)[0].Item2, previous["a"]);
    }

    [Fact]
    public void ForeignFilesLoadOnlyUnverified()
    {
        var path = _dir.File("model.safetensors");
        SafeTensors.Write(path, Small());
        var e = Refused(path, () => Checkpoint.Load(path));
        Assert.Contains("cannot be verified; load it with verify: false", e.Message);
        using var file = Checkpoint.Load(path, verify: false);
        Assert.Equal(3, file.Names.Count);
    }

    [Fact]
    public void NewerFormatIsRefused()
    {
        var path = _dir.File("future.safetensors");
        SafeTensors.Write(path, Small(), new Dictionary<string, string> { [Checkpoint.FormatKey] = "2" });
        Assert.Contains("checkpoint format '2'", Refused(path, () => Checkpoint.Load(path, verify: false)).Message);
    }

    [Fact]
    public void UnwritableTargetIsACheckpointException()
    {
        File.WriteAllText(_dir.File("blocker"), "a file where a directory should be");
        var path = _dir.File("blocker/checkpoint.safetensors");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Save(path, Small()));
        Assert.Equal(CheckpointErrorKind.Io, e.Kind);
        Assert.Contains("could not be saved", e.Message);
    }

    [Fact]
    public void TensorsAreSavedContiguousFromViews()
    {
        var path = _dir.File("views.safetensors");
        var baseTensor = torch.arange(0, 24, dtype: ScalarType.Float32).reshape(4, 6);
        Checkpoint.Save(path, new[] { ("t", baseTensor.t()), ("n", baseTensor.narrow(1, 2, 3)) });
        using var file = Checkpoint.Load(path);
        AssertSameBits(baseTensor.t().contiguous(), file["t"]);
        AssertSameBits(baseTensor.narrow(1, 2, 3).contiguous(), file["n"]);
    }

    // ------------------------------------------------------------ fuzz

    /// <summary>
    /// 1,000 seeded mutations of a valid checkpoint (truncations, bit flips, header edits, lying lengths,
    /// appended junk): every read either succeeds or throws CheckpointException, never allocates much more
    /// than the file, and the verified load never accepts a changed file whose tensors differ.
    /// </summary>
    [Fact]
    public void FuzzedFilesOnlyEverThrowCheckpointException()
    {
        var path = _dir.File("fuzz.safetensors");
        var tensors = new List<(string, Tensor)>
        {
            ("model.embed.weight", torch.randn(4, 3, generator: new torch.Generator(7))),
            ("model.norm.weight", torch.ones(3, dtype: ScalarType.BFloat16)),
            ("mask", torch.tensor(new[] { true, false, true })),
            ("ids", torch.tensor(new long[] { 5, -6 })),
            ("empty", torch.zeros(0, 2)),
        };
        Checkpoint.Save(path, tensors, new Dictionary<string, string> { ["note"] = "fuzz" });
        var original = File.ReadAllBytes(path);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var random = new Random(20240611);
        var target = _dir.File("mutant.safetensors");
        int refusedRaw = 0, refusedVerified = 0, dataFlips = 0;
        long maxAllocated = 0;
        var started = DateTime.UtcNow;

        for (int i = 0; i < 1000; i++)
        {
            var (bytes, what) = Mutate(original, headerLength, random);
            File.WriteAllBytes(target, bytes);
            bool changed = !bytes.AsSpan().SequenceEqual(original);
            bool dataFlip = what == "data-flip" && changed;
            if (dataFlip) dataFlips++;

            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var file = SafeTensors.Load(target);
            }
            catch (CheckpointException e)
            {
                refusedRaw++;
                Assert.DoesNotContain('\n', e.Message);
                Assert.Contains(target, e.Message);
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} ({what}): {e.GetType().Name} escaped: {e.Message}");
            }
            // Managed allocations stay small whatever the header claims (one-off costs such as loading an
            // exception message's resources included); a trusted lying length would ask for gigabytes.
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            maxAllocated = Math.Max(maxAllocated, allocated);
            Assert.True(allocated < (1 << 20) + 16L * bytes.Length, $"mutation {i} ({what}): {allocated} bytes allocated for a {bytes.Length}-byte file");

            try
            {
                using var file = Checkpoint.Load(target, verify: true);
                // Accepted: only acceptable if the tensors are exactly the originals (e.g. a whitespace edit in the padding).
                Assert.False(dataFlip, $"mutation {i}: a flipped data bit was not detected");
                foreach (var (name, tensor) in tensors) AssertSameBits(tensor, file[name], name);
            }
            catch (CheckpointException e)
            {
                refusedVerified++;
                Assert.DoesNotContain('\n', e.Message);
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} ({what}): verified load let {e.GetType().Name} escape: {e.Message}");
            }
        }
        _output.WriteLine($"{original.Length}-byte file: {refusedRaw} refused by the reader, {refusedVerified} by the verified load, " +
                          $"{dataFlips} data flips, at most {maxAllocated} managed bytes allocated per read, {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        Assert.True(dataFlips > 100, $"only {dataFlips} data flips were generated");
        Assert.True(refusedVerified >= refusedRaw);
        Assert.True(refusedVerified > 900, $"only {refusedVerified} of 1000 mutations were refused");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), "the fuzz took too long");
    }

    static (byte[] Bytes, string What) Mutate(byte[] original, int headerLength, Random random)
    {
        var bytes = (byte[])original.Clone();
        int headerEnd = 8 + headerLength;
        switch (random.Next(10))
        {
            case 0: // truncate anywhere
                return (bytes[..random.Next(bytes.Length)], "truncate");
            case 1: // flip a bit in the data region
                bytes[headerEnd + random.Next(bytes.Length - headerEnd)] ^= (byte)(1 << random.Next(8));
                return (bytes, "data-flip");
            case 2: // flip a bit in the header
                bytes[8 + random.Next(headerLength)] ^= (byte)(1 << random.Next(8));
                return (bytes, "header-flip");
            case 3: // a lying header length: huge, off by a little, or near the file size
                ulong length = random.Next(3) switch
                {
                    0 => (ulong)random.NextInt64() << random.Next(2),
                    1 => (ulong)Math.Max(0, headerLength + random.Next(-16, 17)),
                    _ => (ulong)(bytes.Length - 8 + random.Next(-2, 3)),
                };
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
                return (bytes, "length");
            case 4: // change a digit in the header (shapes, offsets, sizes)
            {
                var digits = Enumerable.Range(8, headerLength).Where(i => bytes[i] is >= (byte)'0' and <= (byte)'9').ToArray();
                bytes[digits[random.Next(digits.Length)]] = (byte)('0' + random.Next(10));
                return (bytes, "digit");
            }
            case 5: // replace a header byte by a JSON-significant character
            {
                var specials = "{}[]\",:-0e. \\\u00ff"u8.ToArray();
                bytes[8 + random.Next(headerLength)] = specials[random.Next(specials.Length)];
                return (bytes, "structure");
            }
            case 6: // delete a header byte (the length field now lies by one)
            {
                int at = 8 + random.Next(headerLength);
                return (bytes[..at].Concat(bytes[(at + 1)..]).ToArray(), "delete");
            }
            case 7: // append junk
                return (bytes.Concat(Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256))).ToArray(), "append");
            case 8: // swap a dtype name for another of the same length
            {
                var text = Encoding.Latin1.GetString(bytes, 8, headerLength);
                var names = new[] { "F32", "I32", "F64", "I64", "F16", "I16", "U16" };
                var from = names[random.Next(names.Length)];
                int at = text.IndexOf('"' + from + '"', StringComparison.Ordinal);
                if (at >= 0) Encoding.ASCII.GetBytes(names[random.Next(names.Length)]).CopyTo(bytes, 8 + at + 1);
                return (bytes, "dtype");
            }
            default: // several random bytes anywhere
                for (int k = random.Next(1, 6); k > 0; k--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return (bytes, "random");
        }
    }
}
