using System.Text;

namespace CoLaR.Checkpoints;

/// <summary>What kind of problem a <see cref="CheckpointException"/> reports.</summary>
public enum CheckpointErrorKind
{
    /// <summary>The file could not be opened or read (missing, permissions, I/O error).</summary>
    Io,
    /// <summary>The file is not a well-formed safetensors file (header, dtype, shape, offsets).</summary>
    Format,
    /// <summary>The file's size disagrees with what its header recorded (truncated or appended to).</summary>
    Size,
    /// <summary>A recorded SHA-256 does not match the bytes (corruption after writing).</summary>
    Checksum,
    /// <summary>The file is valid but does not fit the model or optimizer it is loaded into.</summary>
    Mismatch,
}

/// <summary>
/// The one exception type checkpoint code throws for a bad file: corrupt, truncated, tampered with, or not
/// matching the model. The message is a single line that names the file and, where there is one, the
/// tensor or field at fault.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>A problem with a file, reported as "<c>path: detail</c>".</summary>
    public CheckpointException(string path, string detail, CheckpointErrorKind kind, string? tensorName = null, Exception? inner = null)
        : this(path, detail, kind, tensorName, $"{path}: {detail}", inner) { }

    internal CheckpointException(string path, string detail, CheckpointErrorKind kind, string? tensorName, string message, Exception? inner)
        : base(OneLine(message), inner)
    {
        FilePath = path;
        Detail = OneLine(detail);
        Kind = kind;
        TensorName = tensorName;
    }

    /// <summary>The file the problem is about.</summary>
    public string FilePath { get; }

    /// <summary>The message without the file name.</summary>
    public string Detail { get; }

    /// <summary>The category of the problem.</summary>
    public CheckpointErrorKind Kind { get; }

    /// <summary>The tensor at fault, when there is one.</summary>
    public string? TensorName { get; }

    /// <summary>The same problem with a different message (for example with a hint about the previous checkpoint).</summary>
    internal CheckpointException WithMessage(string message) => new(FilePath, Detail, Kind, TensorName, message, this);

    static string OneLine(string s) => s.Contains('\n') || s.Contains('\r') ? s.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ') : s;

    /// <summary>A name as it appears in messages: quoted, control characters escaped, long names shortened.</summary>
    internal static string Quote(string name)
    {
        const int max = 160;
        var sb = new StringBuilder(Math.Min(name.Length, max) + 2).Append('\'');
        for (int i = 0; i < name.Length && i < max; i++)
        {
            char c = name[i];
            if (char.IsControl(c) || char.IsSurrogate(c)) sb.Append($"\\u{(int)c:x4}"); else sb.Append(c);
        }
        if (name.Length > max) sb.Append("...");
        return sb.Append('\'').ToString();
    }
}
