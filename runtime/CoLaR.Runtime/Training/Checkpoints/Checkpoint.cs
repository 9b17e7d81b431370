using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CoLaR.Checkpoints;

/// <summary>What <see cref="Checkpoint.Save"/> wrote.</summary>
/// <param name="Path">The checkpoint's final path.</param>
/// <param name="Bytes">The file's size.</param>
/// <param name="Sha256">The SHA-256 of the data region (lower-case hex), as stored in <c>colar.sha256</c>.</param>
public sealed record CheckpointInfo(string Path, long Bytes, string Sha256);

/// <summary>
/// Crash-safe, self-verifying checkpoint files: safetensors files whose metadata records a SHA-256 of the
/// data region (<c>colar.sha256</c>), a SHA-256 of the tensor index and metadata (<c>colar.header_sha256</c>),
/// the data size (<c>colar.data_bytes</c>) and <c>colar.format=1</c>. A save writes a temporary file next
/// to the target, forces it to disk, then renames it over the target, so a crash at any moment leaves
/// either the old file or the new one, never a mix.
/// </summary>
public static class Checkpoint
{
    /// <summary>Metadata key: the checkpoint format version ("1").</summary>
    public const string FormatKey = "colar.format";
    /// <summary>Metadata key: SHA-256 (hex) of the data region.</summary>
    public const string Sha256Key = "colar.sha256";
    /// <summary>Metadata key: SHA-256 (hex) of the tensor index (names, dtypes, shapes, offsets) and the other metadata.</summary>
    public const string HeaderSha256Key = "colar.header_sha256";
    /// <summary>Metadata key: the data region's size in bytes.</summary>
    public const string DataBytesKey = SafeTensors.DataBytesKey;
    /// <summary>The format version this build writes and reads.</summary>
    public const string FormatVersion = "1";

    static readonly string Placeholder = new('0', 64);

    /// <summary>Where <see cref="Save"/> keeps the replaced checkpoint when asked to: <c>path + ".prev"</c>.</summary>
    public static string PreviousPath(string path) => path + ".prev";

    /// <summary>The temporary file this process writes before renaming it over <paramref name="path"/>.</summary>
    public static string TempPath(string path) => path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Writes a checkpoint atomically: to <see cref="TempPath"/>, flushed to disk, then renamed over
    /// <paramref name="path"/>. Tensors may live on any device; each is copied to contiguous CPU memory in turn.
    /// </summary>
    /// <param name="path">The checkpoint file; its directory is created if needed.</param>
    /// <param name="tensors">Names and tensors, written in this order. Tensors created while it is enumerated (views such as
    /// a model's <c>CheckpointTensors()</c> slices) are disposed when the save returns; tensors that already existed are not.</param>
    /// <param name="metadata">String metadata stored in the header; keys <c>colar.format</c>, <c>colar.sha256</c>,
    /// <c>colar.header_sha256</c> and <c>colar.data_bytes</c> are reserved.</param>
    /// <param name="keepPrevious">Keep the file being replaced as <see cref="PreviousPath"/> (a hard link where the file system allows, so no copy).</param>
    /// <exception cref="ArgumentException">A name is duplicated or reserved, a dtype is unsupported, or a metadata key is reserved.</exception>
    /// <exception cref="CheckpointException">The file could not be written (disk full, permissions); the previous file is untouched.</exception>
    public static CheckpointInfo Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null, bool keepPrevious = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        // Views made while enumerating (a model's fused-weight slices) are released when the save returns.
        using var scope = torch.NewDisposeScope();
        var list = tensors.ToList();
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
            foreach (var (key, value) in metadata)
            {
                if (key is FormatKey or Sha256Key or HeaderSha256Key or DataBytesKey)
                    throw new ArgumentException($"metadata key '{key}' is reserved: Checkpoint.Save sets it");
                meta[key] = value ?? throw new ArgumentException($"metadata '{key}' is null");
            }

        var entries = SafeTensors.PlanEntries(list); // validates names and dtypes before any file is touched
        meta[FormatKey] = FormatVersion;
        meta[DataBytesKey] = (entries.Count == 0 ? 0 : entries[^1].End).ToString(CultureInfo.InvariantCulture);
        meta[HeaderSha256Key] = HeaderHash(entries, meta);
        // The data hash is only known after the data is written: reserve its 64 characters and patch them.
        meta[Sha256Key] = Placeholder;

        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full)!;
        var temp = TempPath(full);
        string digest;
        long bytes;
        try
        {
            Directory.CreateDirectory(directory);
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 20))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var layout = SafeTensors.Write(stream, list, meta, hash);
                digest = Convert.ToHexStringLower(hash.GetHashAndReset());
                stream.Position = 8 + PlaceholderOffset(layout.Header);
                stream.Write(Encoding.ASCII.GetBytes(digest));
                stream.Flush(flushToDisk: true); // fsync: the rename below must never expose unwritten data
                bytes = stream.Length;
            }
            if (keepPrevious && File.Exists(full)) KeepPrevious(full);
            File.Move(temp, full, overwrite: true); // rename(2): atomic on POSIX file systems
            SyncDirectory(directory);               // make the rename itself durable
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new CheckpointException(path, $"could not be saved ({e.Message}); the previous file, if any, is unchanged", CheckpointErrorKind.Io, inner: e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        RemoveStaleTemps(full);
        return new CheckpointInfo(path, bytes, digest);
    }

    /// <summary>
    /// Reads a checkpoint into CPU tensors. With <paramref name="verify"/> (the default) the file must carry
    /// the <c>colar.*</c> checksums, which are recomputed while reading; any mismatch is refused.
    /// </summary>
    /// <exception cref="CheckpointException">The file is missing, malformed, truncated, or fails its checksums.</exception>
    public static TensorFile Load(string path, bool verify = true) => Load(path, verify, inspect: null, include: null);

    /// <summary>Checks a checkpoint's structure and checksums without keeping any tensor (one sequential read).</summary>
    /// <exception cref="CheckpointException">The file is missing, malformed, truncated, or fails its checksums.</exception>
    public static CheckpointInfo Verify(string path)
    {
        using var file = Load(path, verify: true, inspect: null, include: _ => false);
        return new CheckpointInfo(path, file.Header.FileLength, file.Metadata[Sha256Key]);
    }

    /// <summary>Load, with a hook that sees the validated header before any tensor is allocated (to refuse a mismatching file cheaply).</summary>
    internal static TensorFile Load(string path, bool verify, Action<SafeTensorsHeader>? inspect, Func<string, bool>? include)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            using var stream = SafeTensors.OpenRead(path);
            return SafeTensors.Guard(path, () =>
            {
                var header = SafeTensors.ParseHeader(path, stream);
                var metadata = header.Metadata;
                metadata.TryGetValue(FormatKey, out var format);
                if (format is not null && format != FormatVersion)
                    throw new CheckpointException(path, $"has checkpoint format {SafeTensors.Q(format)}; this build reads format {FormatVersion} (a newer CoLaR wrote it?)", CheckpointErrorKind.Format);

                using var hash = verify ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
                string? expected = null;
                if (verify)
                {
                    if (format is null)
                        throw new CheckpointException(path, $"has no {FormatKey} metadata, so it was not written by Checkpoint.Save and cannot be verified; load it with verify: false",
                            CheckpointErrorKind.Format);
                    expected = RequireHex(path, metadata, Sha256Key);
                    var expectedHeader = RequireHex(path, metadata, HeaderSha256Key);
                    if (!metadata.ContainsKey(DataBytesKey))
                        throw new CheckpointException(path, $"metadata {DataBytesKey} is missing", CheckpointErrorKind.Format);
                    var actualHeader = HeaderHash(header.Entries, metadata);
                    if (actualHeader != expectedHeader)
                        throw new CheckpointException(path, $"header checksum mismatch (expected {expectedHeader}, got {actualHeader}): tensor names, dtypes, shapes or metadata were altered",
                            CheckpointErrorKind.Checksum);
                }

                inspect?.Invoke(header);
                var file = SafeTensors.ReadData(header, stream, include, hash);
                if (hash is not null)
                {
                    var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                    if (actual != expected)
                    {
                        file.Dispose();
                        throw new CheckpointException(path, $"checksum mismatch (expected {expected}, got {actual})", CheckpointErrorKind.Checksum);
                    }
                }
                return file;
            });
        }
        catch (CheckpointException e) when (e.Kind is CheckpointErrorKind.Format or CheckpointErrorKind.Size or CheckpointErrorKind.Checksum)
        {
            throw e.WithMessage($"{path} is corrupt: {e.Detail}; {PreviousHint(path)}");
        }
    }

    /// <summary>Where to turn when a checkpoint is refused, as a clause of the error message.</summary>
    internal static string PreviousHint(string path)
    {
        var previous = PreviousPath(path);
        return File.Exists(previous)
            ? $"the previous checkpoint is {previous}"
            : $"there is no previous checkpoint ({previous} does not exist)";
    }

    static string RequireHex(string path, IReadOnlyDictionary<string, string> metadata, string key)
    {
        if (!metadata.TryGetValue(key, out var value))
            throw new CheckpointException(path, $"metadata {key} is missing", CheckpointErrorKind.Format);
        if (value.Length != 64 || !value.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            throw new CheckpointException(path, $"metadata {key} = {SafeTensors.Q(value)} is not a SHA-256 in hex", CheckpointErrorKind.Format);
        return value;
    }

    /// <summary>
    /// SHA-256 over a canonical form of the tensor index and the metadata (without the two checksums): catches
    /// header edits that keep the file well formed, such as F16 turned into BF16 or a renamed tensor.
    /// </summary>
    internal static string HeaderHash(IEnumerable<SafeTensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        void Num(long v) { BinaryPrimitives.WriteInt64LittleEndian(number, v); hash.AppendData(number); }
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); Num(b.Length); hash.AppendData(b); }

        Str("colar-header-v1");
        foreach (var e in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            Str(e.Name);
            Str(e.DType.ToString());
            Num(e.Shape.Count);
            foreach (var d in e.Shape) Num(d);
            Num(e.Begin);
            Num(e.End);
        }
        foreach (var (key, value) in metadata.Where(kv => kv.Key is not (Sha256Key or HeaderSha256Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Str(key);
            Str(value);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    static int PlaceholderOffset(byte[] header)
    {
        // Quotes inside JSON strings are escaped, so this key/value sequence can only be the metadata entry itself.
        var pattern = Encoding.UTF8.GetBytes($"\"{Sha256Key}\":\"{Placeholder}\"");
        int at = header.AsSpan().IndexOf(pattern);
        if (at < 0) throw new InvalidOperationException("checksum placeholder not found in the header written");
        return at + pattern.Length - 1 - Placeholder.Length;
    }

    /// <summary>Replaces <c>path.prev</c> by the current file, atomically, without copying where hard links work.</summary>
    static void KeepPrevious(string full)
    {
        var previous = PreviousPath(full);
        var temp = previous + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        TryDelete(temp);
        if (!Posix.TryHardLink(full, temp)) File.Copy(full, temp, overwrite: true);
        File.Move(temp, previous, overwrite: true);
    }

    /// <summary>Removes temporary files that crashed saves left behind: only those of processes that are gone, and at least an hour old.</summary>
    static void RemoveStaleTemps(string full)
    {
        try
        {
            var directory = System.IO.Path.GetDirectoryName(full)!;
            var name = System.IO.Path.GetFileName(full);
            var candidates = Directory.EnumerateFiles(directory, name + ".tmp-*").Concat(Directory.EnumerateFiles(directory, name + ".prev.tmp-*"));
            foreach (var file in candidates.ToList())
            {
                var suffix = file[(file.LastIndexOf(".tmp-", StringComparison.Ordinal) + 5)..];
                if (!int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId) continue;
                // The age test protects a save in progress on another host sharing this directory (its pid means nothing here).
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) < TimeSpan.FromHours(1) || ProcessAlive(pid)) continue;
                TryDelete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    static bool ProcessAlive(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>fsync on the directory, so the rename survives a power loss (best effort; POSIX only).</summary>
    static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) Posix.SyncDirectory(directory);
    }

    static class Posix
    {
        [DllImport("libc", SetLastError = true)]
        static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
        [DllImport("libc", SetLastError = true)]
        static extern int fsync(int fd);
        [DllImport("libc", SetLastError = true)]
        static extern int close(int fd);
        [DllImport("libc", SetLastError = true)]
        static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);

        internal static void SyncDirectory(string directory)
        {
            try
            {
                int fd = open(directory, 0 /* O_RDONLY */);
                if (fd < 0) return;
                fsync(fd);
                close(fd);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }

        internal static bool TryHardLink(string existing, string created)
        {
            if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return false;
            try { return link(existing, created) == 0; }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
        }
    }
}
