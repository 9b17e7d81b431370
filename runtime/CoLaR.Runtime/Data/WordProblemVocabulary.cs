using System.Text.RegularExpressions;

namespace CoLaR.Data;

/// <summary>
/// The fixed words of the synthetic word-problem generator. Kept in one place because the embedded tokenizer
/// gives each of these words its own token: a generated problem then costs one token per word. The lists are
/// deliberately short: every word adds a few ids, and the embedded vocabulary must fit the default backbone (Vocab 512).
/// </summary>
public static class WordProblemVocabulary
{
    /// <summary>A person in a problem and the pronouns that refer to them.</summary>
    public sealed record Person(string Name, string Subject, string Possessive);

    /// <summary>A countable item; only edible items can be eaten.</summary>
    public sealed record Item(string Singular, string Plural, bool Edible);

    /// <summary>The people problems are about.</summary>
    public static IReadOnlyList<Person> People { get; } =
    [
        new("Mia", "She", "her"), new("Emma", "She", "her"), new("Lily", "She", "her"), new("Sara", "She", "her"),
        new("Ben", "He", "his"), new("Tom", "He", "his"), new("Sam", "He", "his"), new("Max", "He", "his"),
    ];

    /// <summary>The things people count.</summary>
    public static IReadOnlyList<Item> Items { get; } =
    [
        new("apple", "apples", true), new("orange", "oranges", true), new("cookie", "cookies", true), new("candy", "candies", true),
        new("marble", "marbles", false), new("sticker", "stickers", false), new("pencil", "pencils", false), new("coin", "coins", false),
    ];

    // Sentence templates. Placeholders: {name}, {P} (She/He), {p} (her/his), {k} (a number), {items} (item
    // noun, singular when the number is 1), {other} (another person's name).
    internal const string Start = "{name} has {k} {items}.";
    internal static readonly string[] Gains = ["{P} buys {k} more {items}.", "{P} finds {k} more {items}.", "{P} gets {k} more {items} from {other}."];
    internal static readonly string[] Losses = ["{P} gives {k} {items} to {other}.", "{P} loses {k} {items}.", "{P} sells {k} {items}."];
    internal const string Eats = "{P} eats {k} {items}.";
    internal const string Multiplies = "{P} now has {k} times as many {items} as before.";
    internal const string Divides = "{P} splits {p} {items} into {k} equal shares and keeps one share.";
    internal const string Question = "How many {items} does {name} have now?";

    /// <summary>Every word a generated problem can contain (names, pronouns, items, template words).</summary>
    public static IReadOnlyList<string> Words { get; } = CollectWords();

    static IReadOnlyList<string> CollectWords()
    {
        var templates = new[] { Start, Eats, Multiplies, Divides, Question }.Concat(Gains).Concat(Losses);
        var words = new List<string>();
        foreach (var template in templates)
            foreach (Match m in Regex.Matches(Regex.Replace(template, @"\{\w+\}", " "), "[A-Za-z]+"))
                words.Add(m.Value);
        foreach (var person in People) words.AddRange([person.Name, person.Subject, person.Possessive]);
        foreach (var item in Items) words.AddRange([item.Singular, item.Plural]);
        return words.Distinct(StringComparer.Ordinal).ToArray();
    }
}
