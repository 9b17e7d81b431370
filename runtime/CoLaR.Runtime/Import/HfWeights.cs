using System.Text.Json;
using CoLaR.Checkpoints;

namespace CoLaR.Import;

/// <summary>Where one tensor of a Hugging Face checkpoint lives: its file and header entry.</summary>
public sealed record HfTensor(string Name, string File, SafeTensorsEntry Entry);

/// <summary>
/// The weight files of a Hugging Face checkpoint directory: <c>model.safetensors</c>, or the shards named by
/// <c>model.safetensors.index.json</c>'s <c>weight_map</c>. Only headers are read here (names, dtypes,
/// shapes), so everything can be checked before any tensor data is read. Pickle files
/// (<c>pytorch_model.bin</c>, <c>*.pt</c>, <c>*.ckpt</c>) are never opened: a directory that has only those is refused.
/// </summary>
public sealed class HfWeights
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    static readonly string[] PickleNames = ["pytorch_model.bin", "pytorch_model.bin.index.json", "model.bin", "model.pt", "model.pth", "model.ckpt", "tf_model.h5", "flax_model.msgpack"];

    HfWeights(string directory, IReadOnlyList<string> files, IReadOnlyDictionary<string, HfTensor> tensors)
    {
        Directory = directory;
        Files = files;
        Tensors = tensors;
    }

    /// <summary>The checkpoint directory.</summary>
    public string Directory { get; }

    /// <summary>The safetensors files, in the order they are read.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Every tensor by its name in the files.</summary>
    public IReadOnlyDictionary<string, HfTensor> Tensors { get; }

    /// <summary>Finds and checks the weight files of <paramref name="directory"/> (headers only).</summary>
    /// <exception cref="CheckpointException">No safetensors weights (the message says when only pickle files are there), a malformed index or shard, a shard that is missing or does not hold what the index says.</exception>
    public static HfWeights Open(string directory)
    {
        var single = Path.Combine(directory, SingleFile);
        var index = Path.Combine(directory, IndexFile);
        if (File.Exists(single)) return FromFiles(directory, [single], null);
        if (File.Exists(index)) return FromIndex(directory, index);

        var pickles = PickleNames.Where(n => File.Exists(Path.Combine(directory, n)))
            .Concat(System.IO.Directory.EnumerateFiles(directory, "pytorch_model-*.bin").Select(Path.GetFileName).OfType<string>()).Distinct().ToList();
        if (pickles.Count > 0)
            throw new CheckpointException(Path.Combine(directory, pickles[0]),
                $"is a pickle (or other non-safetensors) weight file, and pickle files are never loaded: they can run code. Convert the checkpoint once where you trust it, " +
                $"e.g. in Python `AutoModelForCausalLM.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)`, which writes {SingleFile}",
                CheckpointErrorKind.Format);
        throw new CheckpointException(directory, $"has no {SingleFile} and no {IndexFile}, so there are no weights to import", CheckpointErrorKind.Io);
    }

    static HfWeights FromIndex(string directory, string indexPath)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(indexPath));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CheckpointException(indexPath, $"is not valid JSON ({e.Message})", CheckpointErrorKind.Format, inner: e);
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(indexPath, "has no \"weight_map\" object of tensor name → shard file", CheckpointErrorKind.Format);
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(indexPath, $"weight_map[{Q(entry.Name)}] is not a file name", CheckpointErrorKind.Format, entry.Name);
            var file = entry.Value.GetString()!;
            if (file.Length == 0 || file.Contains('/') || file.Contains('\\') || file is "." or ".." || !file.EndsWith(".safetensors", StringComparison.Ordinal))
                throw new CheckpointException(indexPath, $"weight_map[{Q(entry.Name)}] = {Q(file)} is not a .safetensors file name in the checkpoint directory", CheckpointErrorKind.Format, entry.Name);
            if (!weightMap.TryAdd(entry.Name, file))
                throw new CheckpointException(indexPath, $"weight_map lists {Q(entry.Name)} twice", CheckpointErrorKind.Format, entry.Name);
        }
        if (weightMap.Count == 0) throw new CheckpointException(indexPath, "weight_map is empty", CheckpointErrorKind.Format);
        var files = weightMap.Values.Distinct(StringComparer.Ordinal).OrderBy(f => f, StringComparer.Ordinal).Select(f => Path.Combine(directory, f)).ToList();
        foreach (var file in files)
            if (!File.Exists(file))
            {
                var tensor = weightMap.First(kv => Path.Combine(directory, kv.Value) == file).Key;
                throw new CheckpointException(file, $"is missing: {IndexFile} maps tensor {Q(tensor)} (and maybe others) to it", CheckpointErrorKind.Io, tensor);
            }
        return FromFiles(directory, files, weightMap);
    }

    static HfWeights FromFiles(string directory, IReadOnlyList<string> files, IReadOnlyDictionary<string, string>? weightMap)
    {
        var tensors = new Dictionary<string, HfTensor>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var header = SafeTensors.ReadHeader(file);
            foreach (var entry in header.Entries)
            {
                if (weightMap is not null && (!weightMap.TryGetValue(entry.Name, out var mapped) || Path.Combine(directory, mapped) != file))
                    throw new CheckpointException(file, weightMap.TryGetValue(entry.Name, out var other)
                        ? $"holds tensor {Q(entry.Name)}, which {IndexFile} places in {other}"
                        : $"holds tensor {Q(entry.Name)}, which {IndexFile} does not list", CheckpointErrorKind.Mismatch, entry.Name);
                if (!tensors.TryAdd(entry.Name, new HfTensor(entry.Name, file, entry)))
                    throw new CheckpointException(file, $"tensor {Q(entry.Name)} is also in {tensors[entry.Name].File}", CheckpointErrorKind.Mismatch, entry.Name);
            }
        }
        if (weightMap is not null)
            foreach (var (name, file) in weightMap)
                if (!tensors.ContainsKey(name))
                    throw new CheckpointException(Path.Combine(directory, file), $"lacks tensor {Q(name)}, which {IndexFile} places in it", CheckpointErrorKind.Mismatch, name);
        return new HfWeights(directory, files, tensors);
    }

    static string Q(string s) => CheckpointException.Quote(s);
}
