namespace Glance.Api.Tests.Fakes;

/// <summary>
/// A clock whose timestamps (what the server measures step durations with) move only when advanced, by the fake engine's
/// step costs; wall time and timers stay the system's. Makes the time-based training share deterministic in tests.
/// </summary>
public sealed class SteppedTimestamps : TimeProvider
{
    long ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}
