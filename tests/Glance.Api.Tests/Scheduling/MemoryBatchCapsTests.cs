using Glance.Api.Scheduling;

namespace Glance.Api.Tests.Scheduling;

public class MemoryBatchCapsTests
{
    [Fact]
    public void RunningOutHalvesTheBatchAtThatResolution()
    {
        var caps = new MemoryBatchCaps();

        Assert.Equal(8, caps.RanOutAt(1024, 1024, 16));
        Assert.Equal(new Dictionary<(int, int), int> { [(1024, 1024)] = 8 }, caps.Caps);
    }

    [Fact]
    public void TheCapOnlyGoesDown()
    {
        var caps = new MemoryBatchCaps();
        caps.RanOutAt(1024, 1024, 8);

        Assert.Equal(4, caps.RanOutAt(1024, 1024, 16)); // a larger batch (started before the cap) does not raise it
        Assert.Equal(2, caps.RanOutAt(1024, 1024, 4));
    }

    [Fact]
    public void TheCapNeverFallsBelowOneRequest()
    {
        var caps = new MemoryBatchCaps();

        Assert.Equal(1, caps.RanOutAt(512, 512, 2));
        Assert.Equal(1, caps.RanOutAt(512, 512, 1));
    }

    [Fact]
    public void ResolutionsAreCappedApart()
    {
        var caps = new MemoryBatchCaps();
        caps.RanOutAt(1024, 1024, 4);
        caps.RanOutAt(512, 1024, 8);

        Assert.Equal(2, caps.Caps[(1024, 1024)]);
        Assert.Equal(4, caps.Caps[(512, 1024)]);
        Assert.False(caps.Caps.ContainsKey((1024, 512)));
    }
}
