namespace CoLaR.Training;

/// <summary>
/// Which samples each step trains on, as a pure function of (seed, step): epoch e is a fixed
/// permutation of the data seeded by (seed, e), cut into full batches. No iterator state, so
/// resuming at step s needs nothing but s.
/// </summary>
public sealed class DataSchedule
{
    readonly int _count, _batchSize, _seed;
    int _cachedEpoch = -1;
    int[] _cachedOrder = Array.Empty<int>();

    public DataSchedule(int sampleCount, int batchSize, int seed)
    {
        if (sampleCount <= 0) throw new ArgumentException("the training set is empty");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        _count = sampleCount;
        _batchSize = Math.Min(batchSize, sampleCount);
        _seed = seed;
    }

    /// <summary>Full batches per epoch (a last partial batch is dropped; the next epoch reshuffles).</summary>
    public int BatchesPerEpoch => _count / _batchSize;

    public int EpochOf(int step) => step / BatchesPerEpoch;

    /// <summary>The sample indices of step <paramref name="step"/> (0-based).</summary>
    public int[] Batch(int step)
    {
        int epoch = EpochOf(step), index = step % BatchesPerEpoch;
        if (epoch != _cachedEpoch)
        {
            _cachedOrder = Enumerable.Range(0, _count).ToArray();
            new Random(Seeds.Mix(_seed, epoch, 0x0DA7A)).Shuffle(_cachedOrder);
            _cachedEpoch = epoch;
        }
        return _cachedOrder.AsSpan(index * _batchSize, _batchSize).ToArray();
    }
}

/// <summary>Deterministic seed derivation (SplitMix64 finaliser), so streams for different purposes and steps never collide.</summary>
public static class Seeds
{
    public static int Mix(int seed, long step, long purpose)
    {
        ulong z = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step * 0xBF58476D1CE4E5B9UL + (ulong)purpose * 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
