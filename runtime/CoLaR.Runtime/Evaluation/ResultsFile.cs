using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CoLaR.Evaluation;

/// <summary>
/// Reads and writes result files (<c>results.json</c>, <c>docs/results/reproduction.json</c>):
/// <code>{"rows": [{"method": "CoLaR", "compression": 2, "dataset": "gsm8k-aug", "accuracy": 0.401,
///   "accuracy_ci95": 0.012, "mean_steps": 12.7, "mean_steps_ci95": 0.3, "seeds": 3}, ...]}</code>
/// Numbers are written in the invariant format (System.Text.Json never uses the current culture) with
/// full round-trip precision; rounding is for tables, not for stored data. Every row is validated on write
/// and on read, and errors name the file and the row.
/// </summary>
public static class ResultsFile
{
    sealed record FileModel([property: JsonPropertyName("rows")] IReadOnlyList<ResultRow> Rows)
    {
        [JsonExtensionData]
        public Dictionary<string, JsonElement>? Extra { get; init; }
    }

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Method and data set names stay readable ("±", non-ASCII names) instead of \uXXXX escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
    };

    /// <summary>Serialises rows as the results JSON document (indented, trailing newline).</summary>
    public static string Serialize(IEnumerable<ResultRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var list = rows.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            try { list[i].Validate(); }
            catch (ArgumentException e) { throw new ArgumentException($"Row {i} ({list[i].Method}, {list[i].Dataset}): {e.Message}", nameof(rows), e); }
        }
        return JsonSerializer.Serialize(new FileModel(list), Options) + "\n";
    }

    /// <summary>
    /// Writes rows to <paramref name="path"/>, creating its folder. The file is written to a temporary name and
    /// then renamed over the target, so a crash never leaves a half-written results file.
    /// </summary>
    public static void Write(string path, IEnumerable<ResultRow> rows)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string json = Serialize(rows);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, json, new UTF8Encoding(false));
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Reads and validates a results file.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid results document; the message names the file, and the row when one is bad.</exception>
    public static IReadOnlyList<ResultRow> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates a results document; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<ResultRow> Parse(string json, string source = "<results>")
    {
        ArgumentNullException.ThrowIfNull(json);
        FileModel? model;
        try
        {
            model = JsonSerializer.Deserialize<FileModel>(json, Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a results document ({e.Message})", e);
        }
        if (model?.Rows is null)
            throw new InvalidDataException($"{source}: missing \"rows\" array");
        for (int i = 0; i < model.Rows.Count; i++)
        {
            var row = model.Rows[i] ?? throw new InvalidDataException($"{source}: row {i} is null");
            try { row.Validate(); }
            catch (ArgumentException e) { throw new InvalidDataException($"{source}: row {i}: {e.Message}", e); }
        }
        return model.Rows;
    }
}
