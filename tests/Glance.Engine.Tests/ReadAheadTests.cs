using Glance.Engine.Checkpoints;

namespace Glance.Engine.Tests;

public sealed class ReadAheadTests : IDisposable
{
    const long MiB = 1 << 20;
    readonly string _file = Path.Combine(Path.GetTempPath(), "glance-read-ahead-" + Guid.NewGuid().ToString("N"));

    public ReadAheadTests()
    {
        using var stream = File.Create(_file);
        stream.SetLength(40 * MiB);
    }

    public void Dispose() => File.Delete(_file);

    /// <summary>Waits until the position has not moved for 300 ms (or 20 s have passed).</summary>
    static void WaitUntilStill(ReadAhead ahead)
    {
        long last = -1;
        int still = 0;
        for (int i = 0; i < 800 && still < 12; i++)
        {
            long now = ahead.Position;
            still = now == last ? still + 1 : 0;
            last = now;
            Thread.Sleep(25);
        }
    }

    [Fact]
    public void ItReadsNoFurtherThanItsWindowAheadOfTheLoaderAndOnToTheEndAsTheLoaderMoves()
    {
        using var ahead = new ReadAhead(_file, start: 100, window: 16 * MiB);
        WaitUntilStill(ahead);
        Assert.InRange(ahead.Position, 16 * MiB, 100 + 16 * MiB + 8 * MiB);

        ahead.Consumed(20 * MiB);
        WaitUntilStill(ahead);
        Assert.InRange(ahead.Position, 36 * MiB, 40 * MiB);

        ahead.Consumed(40 * MiB);
        WaitUntilStill(ahead);
        Assert.Equal(40 * MiB, ahead.Position);
    }

    [Fact]
    public void DisposingItWhileItWaitsForTheLoaderStopsIt()
    {
        var ahead = new ReadAhead(_file, start: 0, window: 8 * MiB);
        WaitUntilStill(ahead);
        long position = ahead.Position;
        ahead.Dispose();
        Assert.True(position < 40 * MiB, $"it read {position} bytes without the loader moving");
    }
}
