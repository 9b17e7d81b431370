using CoLaR.Modules;
using CoLaR.Text;

namespace CoLaR.Runs;

/// <summary>Checks, before training, that every sample fits the model's context (MaxPositions).</summary>
public static class SequenceLimits
{
    /// <summary>The longest sequence a sample can become under the spec's method (its c = 1 layout is the longest).</summary>
    public static int LongestLayout(EncodedSample s, ReasonerSpec spec, PromptLayout layout)
    {
        int steps = s.Steps.Length == 0 ? 0 : 1 + s.StepTokens(layout.StepSeparator).Length;
        int speed = spec.Method == ReasoningMethod.CompressedLatent ? Math.Max(layout.Speed(null).Length, layout.Speed(spec.CompressionRange.Max).Length) : 0;
        int thoughts = spec.Thoughts?.Max ?? 0;
        int prompt = s.Question.Length + speed + 1;
        return prompt + Math.Max(steps, thoughts) + s.Answer.Length;
    }

    /// <summary>Applies the policy; <paramref name="report"/> says what was done (null when every sample fits).</summary>
    public static IReadOnlyList<EncodedSample> Apply(IReadOnlyList<EncodedSample> data, ReasonerSpec spec, PromptLayout layout, TooLongPolicy policy, out string? report)
    {
        int limit = spec.Backbone.MaxPositions;
        var tooLong = data.Select((s, i) => (Sample: s, Index: i, Length: LongestLayout(s, spec, layout))).Where(x => x.Length > limit).ToList();
        report = null;
        if (tooLong.Count == 0) return data;
        var longest = tooLong.MaxBy(x => x.Length);
        string where = longest.Sample.Source.Source is { } src ? src.ToString() : $"sample {longest.Index + 1}";
        string summary = $"{tooLong.Count} of {data.Count} samples are longer than {spec.Backbone.Name}.MaxPositions ({limit}); the longest ({where}) has {longest.Length} tokens";
        switch (policy)
        {
            case TooLongPolicy.Skip:
                report = summary + $"; skipped them (too_long=skip), {data.Count - tooLong.Count} remain";
                var skip = tooLong.Select(t => t.Index).ToHashSet();
                return data.Where((_, i) => !skip.Contains(i)).ToList();
            case TooLongPolicy.Truncate:
                int cutSteps = 0;
                var result = data.ToList();
                foreach (var (s, i, _) in tooLong)
                {
                    var t = s;
                    while (LongestLayout(t, spec, layout) > limit && t.Steps.Length > 0) { t = t with { Steps = t.Steps[1..] }; cutSteps++; }
                    if (LongestLayout(t, spec, layout) > limit)
                        throw new ArgumentException(summary + $"; even without reasoning, {(s.Source.Source?.ToString() ?? $"sample {i + 1}")} does not fit — use too_long=skip");
                    result[i] = t;
                }
                report = summary + $"; truncated them by dropping {cutSteps} leading reasoning steps in all (too_long=truncate)";
                return result;
            default:
                throw new ArgumentException(summary + ". Pass too_long=skip or too_long=truncate, or declare a larger MaxPositions.");
        }
    }
}
