using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CoLaR.Runs;

/// <summary>A configuration value that cannot be used: names the key and the source (file or command line).</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Options records bound from layered sources: defaults, then a JSON config file, then
/// <c>key=value</c> overrides from the command line. Keys are the snake_case names of the record's
/// properties (<c>batch_size</c> for <c>BatchSize</c>). Unknown keys and unparsable values are errors
/// that name the key, its source and (for typos) the closest known key. The effective configuration is
/// printed at start and saved with each run.
/// </summary>
public static class RunConfig
{
    /// <summary>Short names users type for common options. None may be the name of an option itself: GRPO's
    /// <c>clip</c> (the PPO ratio clip) is why <c>gradient_clip</c> has no short name.</summary>
    static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["lr"] = "learning_rate", ["bs"] = "batch_size", ["wd"] = "weight_decay", ["warmup"] = "warmup_steps",
    };

    static string Canonical(string key)
    {
        key = key.Trim().Replace('-', '_');
        return Aliases.TryGetValue(key, out var full) ? full : key;
    }

    /// <summary>Reads a JSON object of options; an error names the file (and line) and what is wrong.</summary>
    public static Dictionary<string, (string Value, string Source)> ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException($"{path}: config file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read the config file ({e.Message.ReplaceLineEndings(" ")})");
        }
        return ParseJson(text, path);
    }

    /// <summary>
    /// Parses the text of a JSON config file: an object whose members are options. Each value's source is
    /// <c>file:line</c>, so a later error about it points at the line. Only <see cref="ConfigException"/> is thrown.
    /// </summary>
    public static Dictionary<string, (string Value, string Source)> ParseJson(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text)) throw new ConfigException($"{path}:1: the config file is empty; write a JSON object of options, like {{\"steps\": 1000}}");
        var result = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 64 });
        int line = 1;
        try
        {
            if (!reader.Read()) throw new ConfigException($"{path}:1: the config file is empty; write a JSON object of options, like {{\"steps\": 1000}}");
            line = LineOf(bytes, reader.TokenStartIndex);
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new ConfigException($"{path}:{line}: the config must be a JSON object of options, like {{\"steps\": 1000}}");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                line = LineOf(bytes, reader.TokenStartIndex);
                string rawKey = reader.GetString()!; // the reader guarantees a property name here
                reader.Read();
                var key = Canonical(rawKey);
                var source = $"{path}:{line}";
                if (result.ContainsKey(key)) throw new ConfigException($"{source}: option {Show(rawKey)} is given twice");
                string? value;
                switch (reader.TokenType)
                {
                    case JsonTokenType.Null: value = null; break;
                    case JsonTokenType.String: value = reader.GetString(); break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        int start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        value = Encoding.UTF8.GetString(bytes, start, (int)reader.BytesConsumed - start);
                        break;
                    default: value = Encoding.UTF8.GetString(reader.ValueSpan); break;
                }
                if (value is not null) result[key] = (value, source);
            }
            if (reader.Read()) throw new ConfigException($"{path}:{LineOf(bytes, reader.TokenStartIndex)}: unexpected content after the config object");
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{path}:{(e.LineNumber ?? line - 1) + 1}: not valid JSON: {JsonMessage(e)}");
        }
        catch (InvalidOperationException)
        {
            // A string the reader accepted as JSON but cannot decode (invalid escape or UTF-16 surrogate).
            throw new ConfigException($"{path}:{line}: a string in the config is not valid text");
        }
        return result;
    }

    static int LineOf(byte[] bytes, long offset)
    {
        int line = 1;
        for (long i = 0; i < offset && i < bytes.Length; i++) if (bytes[i] == (byte)'\n') line++;
        return line;
    }

    // JsonException messages end with "LineNumber: 2 | BytePositionInLine: 7."; the line is already in front.
    static string JsonMessage(JsonException e)
    {
        var message = e.Message;
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at > 0 ? message[..at] : message).Trim().ReplaceLineEndings(" ");
    }

    /// <summary>A user-supplied key or value as shown in messages: quoted, control characters escaped, long text clipped.</summary>
    static string Show(string text)
    {
        const int max = 80;
        var sb = new StringBuilder("'");
        foreach (var c in text.Length > max ? text[..max] : text)
            if (char.IsControl(c) || char.IsSurrogate(c)) sb.Append($"\\u{(int)c:x4}"); else sb.Append(c);
        if (text.Length > max) sb.Append("...");
        return sb.Append('\'').ToString();
    }

    /// <summary>Parses <c>key=value</c> tokens (later ones win).</summary>
    public static Dictionary<string, (string Value, string Source)> ParseOverrides(IEnumerable<string> tokens)
    {
        var result = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var token in tokens)
        {
            int eq = token.IndexOf('=');
            if (eq <= 0) throw new ConfigException($"{Show(token)} is not an option override; write key=value (for example steps=500)");
            result[Canonical(token[..eq])] = (token[(eq + 1)..].Trim(), "command line");
        }
        return result;
    }

    /// <summary>Applies the values whose keys belong to <typeparamref name="T"/>; returns the keys it used.</summary>
    public static T Bind<T>(T defaults, IReadOnlyDictionary<string, (string Value, string Source)> values, ISet<string>? used = null) where T : class
    {
        var properties = Properties<T>();
        var copy = Clone(defaults);
        foreach (var (key, (value, source)) in values)
        {
            if (!properties.TryGetValue(key, out var property)) continue;
            property.SetValue(copy, Parse(property.PropertyType, value, key, source));
            used?.Add(key);
        }
        return copy;
    }

    /// <summary>Throws for keys no options record used, suggesting the closest known key.</summary>
    public static void RejectUnknown(IReadOnlyDictionary<string, (string Value, string Source)> values, ISet<string> used, IEnumerable<string> known)
    {
        var knownList = known.ToList();
        foreach (var (key, (_, source)) in values)
        {
            if (used.Contains(key)) continue;
            // Suggestions only for key lengths a typo can have (the edit distance is quadratic in the length).
            var closest = key.Length <= 64 ? knownList.OrderBy(k => Distance(k, key)).FirstOrDefault() : null;
            var hint = closest is not null && Distance(closest, key) <= Math.Max(2, key.Length / 3) ? $"; did you mean '{closest}'?" : "";
            throw new ConfigException($"unknown option {Show(key)} ({source}){hint} Known options: {string.Join(", ", knownList.OrderBy(k => k))}");
        }
    }

    /// <summary>Throws a <see cref="ConfigException"/> saying that option <paramref name="key"/> must be <paramref name="range"/> unless <paramref name="ok"/>.</summary>
    public static void Require<TValue>(bool ok, string key, TValue value, string range)
    {
        if (!ok) throw new ConfigException($"option '{key}' must be {range} (is {Convert.ToString(value, CultureInfo.InvariantCulture)})");
    }

    /// <summary>The snake_case option names of <typeparamref name="T"/>.</summary>
    public static IEnumerable<string> Keys<T>() => Properties<T>().Keys;

    /// <summary>The options as an indented JSON object with snake_case keys (what runs print and save).</summary>
    public static JsonObject ToJson<T>(T options)
    {
        var obj = new JsonObject();
        foreach (var (key, property) in Properties<T>().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var value = property.GetValue(options);
            // Enums as the words a user types (precision "bf16", too_long "reject"), not their numbers.
            obj[key] = value is Enum e ? JsonValue.Create(SnakeCase(e.ToString())) : JsonSerializer.SerializeToNode(value, property.PropertyType);
        }
        return obj;
    }

    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    static Dictionary<string, PropertyInfo> Properties<T>() =>
        typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetSetMethod() is not null && p.Name != "EqualityContract")
            .ToDictionary(p => SnakeCase(p.Name), StringComparer.Ordinal);

    static T Clone<T>(T value) where T : class =>
        (T)typeof(T).GetMethod("<Clone>$")?.Invoke(value, null)! ?? value;

    static object? Parse(Type type, string text, string key, string source)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (Nullable.GetUnderlyingType(type) is not null && (text.Length == 0 || text == "null")) return null;
        try
        {
            if (target == typeof(string)) return text;
            if (target == typeof(int)) return int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
            if (target == typeof(long)) return long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
            if (target == typeof(double))
            {
                var d = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                return double.IsFinite(d) ? d : throw new FormatException();
            }
            if (target == typeof(bool)) return text.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" or "on" => true,
                "false" or "0" or "no" or "off" => false,
                _ => throw new FormatException(),
            };
            if (target.IsEnum)
            {
                // Names only: Enum.Parse would also take "7" and return a value that is not a member.
                var name = Enum.GetNames(target).FirstOrDefault(n => string.Equals(n, text.Trim().Replace("_", ""), StringComparison.OrdinalIgnoreCase));
                return name is not null ? Enum.Parse(target, name) : throw new FormatException();
            }
            if (target == typeof(int[])) return text.Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new ConfigException($"option '{key}' ({source}): {Show(text)} is not a valid {Describe(target)}");
        }
        throw new ConfigException($"option '{key}' ({source}): values of type {target.Name} cannot be set from text");
    }

    static string Describe(Type t) =>
        t == typeof(int) || t == typeof(long) ? "whole number" :
        t == typeof(double) ? "finite number" :
        t == typeof(bool) ? "true/false value" :
        t.IsEnum ? $"value ({string.Join(", ", Enum.GetNames(t).Select(SnakeCase))})" :
        t == typeof(int[]) ? "list of whole numbers (1,2,3)" : t.Name;

    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
