namespace CoLaR.Data;

/// <summary>
/// SplitMix64: a tiny generator whose sequence for a seed is fixed by this code, not by the .NET version
/// (System.Random's algorithms are an implementation detail), so synthetic data is reproducible everywhere.
/// </summary>
internal sealed class SeededRandom(int seed)
{
    ulong _state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL);

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="max"/>], both inclusive (rejection sampling: no modulo bias).</summary>
    public int Next(int min, int max)
    {
        if (max < min) throw new ArgumentOutOfRangeException(nameof(max), $"empty range [{min}, {max}]");
        ulong range = (ulong)((long)max - min) + 1;
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong x;
        do x = NextUInt64(); while (x >= limit);
        return (int)(min + (long)(x % range));
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count - 1)];
}
