using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Checkpoints;

/// <summary>One tensor's entry in a safetensors header. Offsets are relative to the start of the data region.</summary>
public sealed record SafeTensorsEntry(string Name, SafeTensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>The tensor's size in bytes (End - Begin).</summary>
    public long ByteCount => End - Begin;

    /// <summary>The shape as "[2, 3]".</summary>
    public string ShapeText => SafeTensors.ShapeText(Shape);
}

/// <summary>A parsed and fully validated safetensors header: every entry lies inside the data region, no two overlap, and every byte belongs to one.</summary>
public sealed class SafeTensorsHeader
{
    internal SafeTensorsHeader(string path, long fileLength, long headerLength, IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        FileLength = fileLength;
        HeaderLength = headerLength;
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>The file, as the caller named it.</summary>
    public string Path { get; }

    /// <summary>The file's size in bytes.</summary>
    public long FileLength { get; }

    /// <summary>The JSON header's size in bytes (the value of the leading 8-byte length).</summary>
    public long HeaderLength { get; }

    /// <summary>Where the data region starts in the file.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>The data region's size in bytes.</summary>
    public long DataLength => FileLength - DataStart;

    /// <summary>The tensors, in header order.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> map (empty when the header has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
}

/// <summary>
/// Our implementation of the safetensors format: an 8-byte little-endian header length, a UTF-8 JSON header
/// <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}</c>, then the raw
/// little-endian tensor data. Reading validates the whole header before it allocates anything for the data,
/// so a corrupt or hostile file produces a <see cref="CheckpointException"/>, never another exception, and
/// never an allocation larger than the file.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header accepted (the reference implementation's limit): a bigger one is not a real checkpoint.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Metadata key holding the data region's size, checked by every read of a file that has it.</summary>
    internal const string DataBytesKey = "colar.data_bytes";

    const string MetadataKey = "__metadata__";
    const int MaxRank = 64;

    /// <summary>Bytes moved per read or write call; large tensors go through in chunks (Span is int-sized). Tests lower it.</summary>
    internal static int ChunkBytes = 64 << 20;

    // ------------------------------------------------------------------ reading

    /// <summary>Reads and validates a file's header without reading the tensor data.</summary>
    /// <exception cref="CheckpointException">The file is missing, unreadable or malformed.</exception>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        using var stream = OpenRead(path);
        return Guard(path, () => ParseHeader(path, stream));
    }

    /// <summary>Reads a whole file into CPU tensors of the stored dtypes (bf16 and fp16 stay as they are).</summary>
    /// <param name="path">The file.</param>
    /// <param name="include">Which tensors to materialise (all when null); the others are skipped, not allocated.</param>
    /// <exception cref="CheckpointException">The file is missing, unreadable or malformed.</exception>
    public static TensorFile Load(string path, Func<string, bool>? include = null)
    {
        using var stream = OpenRead(path);
        return Guard(path, () =>
        {
            var header = ParseHeader(path, stream);
            return ReadData(header, stream, include, hash: null);
        });
    }

    internal static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            string why = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            throw new CheckpointException(path, $"cannot be opened ({why})", CheckpointErrorKind.Io, inner: e);
        }
    }

    /// <summary>Runs a read step, turning I/O failures into <see cref="CheckpointException"/> (a file may also change under us).</summary>
    internal static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            string why = e is EndOfStreamException ? "the file ended early (was it truncated while being read?)" : e.Message;
            throw new CheckpointException(path, $"read failed: {why}", CheckpointErrorKind.Io, inner: e);
        }
    }

    internal static SafeTensorsHeader ParseHeader(string path, Stream stream)
    {
        long fileLength = stream.Length;
        CheckpointException Fail(string detail, string? tensor = null, CheckpointErrorKind kind = CheckpointErrorKind.Format) => new(path, detail, kind, tensor);

        if (fileLength < 8)
            throw Fail($"the file has {fileLength} bytes, fewer than the 8-byte header length that starts a safetensors file");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength == 0)
            throw Fail("the header length is 0; a safetensors header is at least \"{}\"");
        if (headerLength > (ulong)(fileLength - 8))
            throw Fail($"the header length field says {headerLength} bytes but only {fileLength - 8} bytes follow it (truncated, or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw Fail($"the header length field says {headerLength} bytes, more than the {MaxHeaderBytes}-byte limit for a safetensors header");

        // Bounded by the file's size (checked above), so a lying length cannot make us allocate more.
        var header = new byte[(int)headerLength];
        stream.ReadExactly(header);
        if (!Utf8.IsValid(header))
            throw Fail("the header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw Fail($"the header is not valid JSON ({e.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Fail($"the header is a JSON {Describe(root.ValueKind)}, not an object");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            var entries = new List<SafeTensorsEntry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            long dataLength = fileLength - 8 - (long)headerLength;

            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (sawMetadata) throw Fail("the header has two \"__metadata__\" objects");
                    sawMetadata = true;
                    ParseMetadata(property.Value, metadata, Fail);
                    continue;
                }
                if (!names.Add(property.Name))
                    throw Fail($"tensor {Q(property.Name)} appears twice in the header", property.Name);
                entries.Add(ParseEntry(property.Name, property.Value, Fail));
            }

            // Our files record the data size: report truncation as such rather than as a tensor out of range.
            if (metadata.TryGetValue(DataBytesKey, out var recorded))
            {
                if (!long.TryParse(recorded, NumberStyles.None, CultureInfo.InvariantCulture, out long expected))
                    throw Fail($"metadata {DataBytesKey} = {Q(recorded)} is not a byte count");
                if (expected != dataLength)
                    throw Fail($"size mismatch: the data region should be {expected} bytes but the file has {dataLength} " +
                               $"({(dataLength < expected ? "truncated" : "extra bytes appended")}; file size {fileLength})", kind: CheckpointErrorKind.Size);
            }

            foreach (var e in entries)
                if (e.End > dataLength)
                    throw Fail($"tensor {Q(e.Name)} claims bytes {e.Begin}..{e.End} but the file's data region has {dataLength} bytes", e.Name);

            // Every byte of the data region must belong to exactly one tensor.
            var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
            long cursor = 0;
            SafeTensorsEntry? previous = null;
            foreach (var e in sorted)
            {
                if (e.Begin < cursor)
                    throw Fail($"tensors {Q(previous!.Name)} (bytes {previous.Begin}..{previous.End}) and {Q(e.Name)} (bytes {e.Begin}..{e.End}) overlap", e.Name);
                if (e.Begin > cursor)
                    throw Fail($"bytes {cursor}..{e.Begin} of the data region belong to no tensor (before {Q(e.Name)})", e.Name);
                cursor = e.End;
                if (e.ByteCount > 0) previous = e;
            }
            if (cursor != dataLength)
                throw Fail($"the data region has {dataLength} bytes but the tensors account for only {cursor}; bytes {cursor}..{dataLength} belong to no tensor");

            return new SafeTensorsHeader(path, fileLength, (long)headerLength, entries, metadata);
        }
    }

    static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata, Func<string, string?, CheckpointErrorKind, CheckpointException> fail)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw fail($"\"__metadata__\" is a JSON {Describe(value.ValueKind)}, not an object of strings", null, CheckpointErrorKind.Format);
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw fail($"metadata {Q(item.Name)} is a JSON {Describe(item.Value.ValueKind)}; metadata values must be strings", null, CheckpointErrorKind.Format);
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw fail($"metadata {Q(item.Name)} appears twice", null, CheckpointErrorKind.Format);
        }
    }

    static SafeTensorsEntry ParseEntry(string name, JsonElement value, Func<string, string?, CheckpointErrorKind, CheckpointException> fail)
    {
        CheckpointException Fail(string detail) => fail($"tensor {Q(name)}: {detail}", name, CheckpointErrorKind.Format);

        if (value.ValueKind != JsonValueKind.Object)
            throw Fail($"its entry is a JSON {Describe(value.ValueKind)}, not an object with dtype, shape and data_offsets");
        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype": if (dtypeElement is not null) throw Fail("field 'dtype' appears twice"); dtypeElement = field.Value; break;
                case "shape": if (shapeElement is not null) throw Fail("field 'shape' appears twice"); shapeElement = field.Value; break;
                case "data_offsets": if (offsetsElement is not null) throw Fail("field 'data_offsets' appears twice"); offsetsElement = field.Value; break;
                default: throw Fail($"unknown field {Q(field.Name)} (expected dtype, shape, data_offsets)");
            }
        }
        if (dtypeElement is not { } dtypeJson) throw Fail("field 'dtype' is missing");
        if (shapeElement is not { } shapeJson) throw Fail("field 'shape' is missing");
        if (offsetsElement is not { } offsetsJson) throw Fail("field 'data_offsets' is missing");

        if (dtypeJson.ValueKind != JsonValueKind.String) throw Fail($"dtype is a JSON {Describe(dtypeJson.ValueKind)}, not a string");
        var dtypeName = dtypeJson.GetString()!;
        if (!SafeTensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Fail($"dtype {Q(dtypeName)} is unknown or unsupported (supported: {SafeTensorsDTypes.SupportedList})");

        if (shapeJson.ValueKind != JsonValueKind.Array) throw Fail($"shape is a JSON {Describe(shapeJson.ValueKind)}, not an array");
        int rank = shapeJson.GetArrayLength();
        if (rank > MaxRank) throw Fail($"shape has {rank} dimensions (at most {MaxRank} are supported)");
        var shape = new long[rank];
        int d = 0;
        foreach (var dim in shapeJson.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
                throw Fail($"shape dimension {d} ({Raw(dim)}) is not a non-negative integer");
            shape[d++] = size;
        }

        if (offsetsJson.ValueKind != JsonValueKind.Array || offsetsJson.GetArrayLength() != 2)
            throw Fail($"data_offsets ({Raw(offsetsJson)}) is not a [begin, end] pair");
        var offsets = new long[2];
        int o = 0;
        foreach (var item in offsetsJson.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long at) || at < 0)
                throw Fail($"data_offsets {(o == 0 ? "begin" : "end")} ({Raw(item)}) is not a non-negative integer");
            offsets[o++] = at;
        }
        if (offsets[1] < offsets[0]) throw Fail($"data_offsets end {offsets[1]} is before begin {offsets[0]}");

        // numel * element size, saturating so a hostile shape cannot overflow into a plausible size.
        Int128 bytes = dtype.ElementSize();
        Int128 cap = (Int128)long.MaxValue + 1;
        foreach (var size in shape) bytes = Int128.Min(bytes * size, cap);
        long span = offsets[1] - offsets[0];
        if (bytes != span)
            throw Fail($"shape {ShapeText(shape)} of {dtype} needs {(bytes >= cap ? "more than 2^63" : bytes.ToString(CultureInfo.InvariantCulture))} bytes " +
                       $"but data_offsets {offsets[0]}..{offsets[1]} span {span}");
        return new SafeTensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    /// <summary>Reads the data region in file order into CPU tensors, hashing every byte when asked (also those of skipped tensors).</summary>
    internal static TensorFile ReadData(SafeTensorsHeader header, Stream stream, Func<string, bool>? include, IncrementalHash? hash)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        byte[]? scratch = null;
        try
        {
            stream.Position = header.DataStart;
            foreach (var entry in header.Entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                bool keep = include?.Invoke(entry.Name) ?? true;
                if (keep)
                {
                    // Allocated only now that the header is known to be consistent with the file's size.
                    var tensor = torch.empty(entry.Shape.ToArray(), entry.DType.ToScalarType(), torch.CPU);
                    tensors.Add(entry.Name, tensor);
                    if (entry.ByteCount > 0) Fill(header.Path, entry, tensor, stream, hash);
                }
                else if (hash is not null && entry.ByteCount > 0)
                {
                    scratch ??= ArrayPool<byte>.Shared.Rent((int)Math.Min(ChunkBytes, entry.ByteCount));
                    for (long left = entry.ByteCount; left > 0;)
                    {
                        int n = (int)Math.Min(left, scratch.Length);
                        stream.ReadExactly(scratch, 0, n);
                        hash.AppendData(scratch, 0, n);
                        left -= n;
                    }
                }
                else
                {
                    stream.Seek(entry.ByteCount, SeekOrigin.Current);
                }
            }
            var names = header.Entries.Select(e => e.Name).Where(tensors.ContainsKey).ToArray();
            return new TensorFile(header, names, tensors);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        finally
        {
            if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    static void Fill(string path, SafeTensorsEntry entry, Tensor tensor, Stream stream, IncrementalHash? hash)
    {
        bool isBool = entry.DType == SafeTensorsDType.BOOL;
        foreach (var chunk in Chunks(tensor))
        {
            using (chunk.Owner)
            {
                var span = chunk.Owner.bytes;
                stream.ReadExactly(span);
                hash?.AppendData(span);
                // libtorch assumes bools are 0 or 1; anything else is corruption, not data.
                if (isBool && span.IndexOfAnyExcept((byte)0, (byte)1) is int bad and >= 0)
                    throw new CheckpointException(path, $"tensor {Q(entry.Name)} is BOOL but byte {chunk.ByteOffset + bad} of it is {span[bad]}, not 0 or 1",
                        CheckpointErrorKind.Format, entry.Name);
            }
        }
    }

    readonly record struct Chunk(Tensor Owner, long ByteOffset);

    /// <summary>Contiguous pieces of a contiguous CPU tensor, each small enough for one Span.</summary>
    static IEnumerable<Chunk> Chunks(Tensor tensor)
    {
        long numel = tensor.numel();
        if (numel == 0) yield break;
        // reshape must be a view, or reads would land in a copy.
        if (!tensor.is_contiguous() || tensor.device_type != DeviceType.CPU) throw new InvalidOperationException("chunked I/O needs a contiguous CPU tensor");
        long elementSize = tensor.element_size();
        long perChunk = Math.Max(1, ChunkBytes / elementSize);
        using var flat = tensor.reshape(numel);
        for (long start = 0; start < numel; start += perChunk)
            yield return new Chunk(flat.narrow(0, start, Math.Min(perChunk, numel - start)), start * elementSize);
    }

    // ------------------------------------------------------------------ writing

    /// <summary>Where a written file's parts lie, for callers that patch a placeholder afterwards.</summary>
    internal readonly record struct Layout(long HeaderLength, long DataLength, byte[] Header);

    /// <summary>
    /// Writes tensors as a safetensors file to a stream, in the given order. Tensors on any device and of any
    /// layout are copied to contiguous CPU memory one at a time, so memory stays at one tensor's size.
    /// </summary>
    /// <exception cref="ArgumentException">A name is duplicated or reserved, or a tensor's dtype has no safetensors equivalent.</exception>
    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(stream, tensors.ToList(), metadata, hash: null);

    /// <summary>Writes a safetensors file (not atomically; see <see cref="Checkpoint.Save"/> for crash-safe checkpoints).</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Write(stream, tensors, metadata);
    }

    internal static Layout Write(Stream stream, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata, IncrementalHash? hash)
    {
        var entries = PlanEntries(tensors);
        var header = EncodeHeader(entries, metadata);
        long dataLength = entries.Count == 0 ? 0 : entries[^1].End;

        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)header.Length);
        stream.Write(lengthBytes);
        stream.Write(header);

        for (int i = 0; i < tensors.Count; i++)
        {
            var (name, tensor) = tensors[i];
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var cpu = tensor.detach().cpu().contiguous();
            if (cpu.numel() * cpu.element_size() != entries[i].ByteCount)
                throw new InvalidOperationException($"tensor {Q(name)} changed size while it was being saved");
            foreach (var chunk in Chunks(cpu))
            {
                using (chunk.Owner)
                {
                    var span = chunk.Owner.bytes;
                    stream.Write(span);
                    hash?.AppendData(span);
                }
            }
        }
        return new Layout(header.Length, dataLength, header);
    }

    /// <summary>Names, dtypes and consecutive offsets for tensors about to be written.</summary>
    internal static List<SafeTensorsEntry> PlanEntries(IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var entries = new List<SafeTensorsEntry>(tensors.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            if (name is null) throw new ArgumentException("a tensor name is null");
            if (name == MetadataKey) throw new ArgumentException($"{Q(name)} is reserved for metadata and cannot name a tensor");
            if (!names.Add(name)) throw new ArgumentException($"tensor {Q(name)} is listed twice");
            if (tensor is null || tensor.IsInvalid) throw new ArgumentException($"tensor {Q(name)} is null or disposed");
            if (!SafeTensorsDTypes.TryFromScalarType(tensor.dtype, out var dtype))
                throw new ArgumentException($"tensor {Q(name)} has dtype {tensor.dtype}, which safetensors files here cannot hold (supported: {SafeTensorsDTypes.SupportedList})");
            long bytes = tensor.numel() * dtype.ElementSize();
            entries.Add(new SafeTensorsEntry(name, dtype, tensor.shape, offset, offset + bytes));
            offset += bytes;
        }
        return entries;
    }

    /// <summary>The JSON header, padded with spaces so the data region starts 8-byte aligned.</summary>
    internal static byte[] EncodeHeader(IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    json.WriteString(key, value ?? throw new ArgumentException($"metadata {Q(key)} is null"));
                json.WriteEndObject();
            }
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(e.Begin);
                json.WriteNumberValue(e.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    // ------------------------------------------------------------------ helpers

    internal static string Q(string name) => CheckpointException.Quote(name);

    /// <summary>"[2, 3]".</summary>
    public static string ShapeText(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "value",
    };

    static string Raw(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length <= 40 ? CheckpointException.Quote(text)[1..^1] : CheckpointException.Quote(text[..40])[1..^1] + "...";
    }
}
