namespace CoLaR.Data;

/// <summary>Saves samples in the format their file extension names, so <see cref="DatasetReader.Read"/> reads them back.</summary>
public static class DatasetWriter
{
    /// <summary>Writes <paramref name="samples"/> to <paramref name="path"/>: .txt (iCoT lines), .json (array) or .jsonl.</summary>
    /// <exception cref="ArgumentException">Unknown extension, or a sample the text format cannot hold.</exception>
    public static void Write(string path, IEnumerable<Sample> samples)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(samples);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (!DatasetReader.Formats.ContainsKey(extension))
            throw new ArgumentException($"Cannot write '{path}': unknown extension '{extension}', expected {string.Join(", ", DatasetReader.Formats.Keys)}.", nameof(path));

        // Format everything first so a bad sample leaves no half-written file.
        var list = samples.ToList();
        if (extension == ".txt")
        {
            var lines = list.Select(IcotTextFormat.FormatLine).ToList();
            File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")), new System.Text.UTF8Encoding(false));
            return;
        }
        using var stream = File.Create(path);
        if (extension == ".json") JsonDatasetFormat.WriteArray(stream, list);
        else JsonDatasetFormat.WriteLines(stream, list);
    }
}
