using System.Text.Json.Nodes;
using CoLaR.Checkpoints;

namespace CoLaR.Runs;

/// <summary>
/// What a resumed run must share with the run it continues. A run's data order, random streams and optimizer
/// state are functions of its options, so resuming with other options would silently train something that is
/// neither run. Checked against the config.json the original run saved, before anything is overwritten.
/// </summary>
public static class Resume
{
    /// <summary>Options that may differ on resume: how long to train (a larger <c>steps</c> extends the run), how
    /// often to log and save, and where and on how many threads it runs.</summary>
    public static readonly IReadOnlySet<string> MayChange = new HashSet<string>(StringComparer.Ordinal)
    {
        "steps", "log_every", "checkpoint_every", "device", "threads",
    };

    /// <summary>
    /// If <paramref name="outputDirectory"/> holds a run's training state, compares the options sections of its
    /// config.json with <paramref name="config"/>; throws a <see cref="ConfigException"/> naming every option that differs.
    /// </summary>
    public static void CheckOptions(string outputDirectory, JsonObject config, params string[] sections)
    {
        var statePath = TrainingState.PathIn(Path.Combine(outputDirectory, "state"));
        var configPath = Path.Combine(outputDirectory, "config.json");
        if (!File.Exists(statePath) || !File.Exists(configPath)) return;
        JsonObject? saved;
        try
        {
            saved = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return; // unreadable: nothing to compare against (the state file itself is checked on load)
        }
        if (saved is null) return;

        // Another model: loading the state refuses it, naming the file and both specs.
        if (saved["model"]?.ToJsonString() != config["model"]?.ToJsonString()) return;
        var differences = new List<string>();
        if (saved["data"] is { } data && config["data"] is { } now && data.ToJsonString() != now.ToJsonString())
            differences.Add($"data: {data.ToJsonString()} there, {now.ToJsonString()} now");
        foreach (var section in sections)
        {
            if (saved[section] is not JsonObject before || config[section] is not JsonObject options) continue;
            foreach (var (key, value) in options)
            {
                if (MayChange.Contains(key) || !before.ContainsKey(key)) continue;
                string was = before[key]?.ToJsonString() ?? "null", @is = value?.ToJsonString() ?? "null";
                if (was != @is) differences.Add($"{key}: {was} there, {@is} now");
            }
        }
        if (differences.Count > 0)
            throw new ConfigException($"{outputDirectory} holds a run started with other options ({string.Join("; ", differences)}); " +
                "resuming it with these would train neither run. Pass the options it was started with (see its config.json), or train into a new --out");
    }

    /// <summary>The step a checkpoint file records (its <c>colar.step</c>), or null when it has none or cannot be read.</summary>
    public static int? StepOf(string checkpoint)
    {
        try
        {
            return SafeTensors.ReadHeader(checkpoint).Metadata.TryGetValue("colar.step", out var s)
                && int.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var step) ? step : null;
        }
        catch (Exception e) when (e is CheckpointException or IOException)
        {
            return null;
        }
    }
}
