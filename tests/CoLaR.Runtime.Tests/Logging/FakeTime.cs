namespace CoLaR.Runtime.Tests.Logging;

/// <summary>A clock that moves only when told to.</summary>
internal sealed class FakeTime(DateTimeOffset start) : TimeProvider
{
    long _ticks;

    public FakeTime() : this(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero)) { }

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    public void Advance(double seconds) => Advance(TimeSpan.FromSeconds(seconds));

    public override DateTimeOffset GetUtcNow() => start.AddTicks(Interlocked.Read(ref _ticks));
    public override long GetTimestamp() => Interlocked.Read(ref _ticks);
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
}
