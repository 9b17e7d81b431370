namespace CoLaR.Training;

/// <summary>
/// The grouping of reasoning tokens at compression c, computed on the CPU (pure, tested against
/// hand-worked examples). Per sample the step tokens t1..tn become groups
/// <c>[pad × (c-1), ###] [t1..tc] [tc+1..t2c] … [.., pad × ((-n) mod c)]</c>: ### alone closes the first
/// group so its merged embedding is exactly emb(###), as at inference (reference quirk 2), and the last
/// group is padded by (-n) mod c — never a whole empty group (quirk 1). Samples are left-padded with
/// empty groups so every sample's groups end at the same slot.
/// </summary>
public sealed class CompressedGroups
{
    /// <summary>The compression factor c.</summary>
    public int Compression { get; }
    /// <summary>Group slots per sample (the longest sample's 1 + ceil(n / c)).</summary>
    public int Slots { get; }
    /// <summary>Token id of each group member, [samples, Slots, c] flattened.</summary>
    public long[] TokenIds { get; }
    /// <summary>Whether each group member is a real token, [samples, Slots, c] flattened.</summary>
    public bool[] Real { get; }
    /// <summary>Whether each slot holds a group, [samples, Slots] flattened.</summary>
    public bool[] Valid { get; }
    /// <summary>The CE label of each slot: one real token of the group drawn at random (### for the first); -100 for empty slots.</summary>
    public long[] Labels { get; }
    /// <summary>Groups per sample.</summary>
    public int[] Counts { get; }

    CompressedGroups(int c, int slots, int samples)
    {
        Compression = c;
        Slots = slots;
        TokenIds = new long[samples * slots * c];
        Real = new bool[samples * slots * c];
        Valid = new bool[samples * slots];
        Labels = new long[samples * slots];
        Counts = new int[samples];
    }

    /// <summary>Number of groups for n step tokens at compression c: ### alone, then ceil(n / c).</summary>
    public static int GroupCount(int stepTokens, int c) => 1 + (stepTokens + c - 1) / c;

    public static CompressedGroups Build(IReadOnlyList<int[]> stepTokens, int c, int thinkId, int padId, Random random)
    {
        if (c < 1) throw new ArgumentOutOfRangeException(nameof(c), c, "compression must be at least 1");
        int slots = stepTokens.Count == 0 ? 1 : stepTokens.Max(t => GroupCount(t.Length, c));
        var g = new CompressedGroups(c, slots, stepTokens.Count);
        Array.Fill(g.TokenIds, padId);
        Array.Fill(g.Labels, Batching.Ignore);
        for (int i = 0; i < stepTokens.Count; i++)
        {
            var tokens = stepTokens[i];
            int count = GroupCount(tokens.Length, c), first = slots - count;
            g.Counts[i] = count;
            // Group 0: [pad × (c-1), ###].
            int slot = i * slots + first;
            g.Valid[slot] = true;
            g.TokenIds[slot * c + c - 1] = thinkId;
            g.Real[slot * c + c - 1] = true;
            g.Labels[slot] = thinkId;
            // Groups 1..: the step tokens, c at a time; the last one padded on the right.
            for (int j = 1; j < count; j++)
            {
                slot = i * slots + first + j;
                g.Valid[slot] = true;
                int start = (j - 1) * c, real = Math.Min(c, tokens.Length - start);
                for (int k = 0; k < real; k++)
                {
                    g.TokenIds[slot * c + k] = tokens[start + k];
                    g.Real[slot * c + k] = true;
                }
                g.Labels[slot] = tokens[start + random.Next(real)];
            }
        }
        return g;
    }
}
