using Glance.Api.Jobs;
using Glance.Api.Options;
using Glance.Contracts.Jobs;
using Microsoft.Extensions.Options;

namespace Glance.Api.Tests.Jobs;

public class InMemoryJobStoreTests
{
    sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;

        public override long GetTimestamp() => Now.UtcTicks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }

    static JobResponse Job(string id, DateTimeOffset at) =>
        new(id, JobStatus.Queued, 1, 0, 4, null, new Dictionary<string, double>(), at, null, null);

    static JobEvent Event(string name, string id, DateTimeOffset at) => new(name, id, 0, 4, null, at);

    [Fact]
    public async Task JobExpiresTtlAfterItsLastChange()
    {
        var clock = new ManualClock();
        var store = new InMemoryJobStore(Microsoft.Extensions.Options.Options.Create(new JobOptions { TtlSeconds = 60 }), clock);
        await store.AddAsync(Job("a", clock.Now), Event(JobEventNames.Queued, "a", clock.Now), default);

        clock.Now += TimeSpan.FromSeconds(50);
        await store.UpdateAsync("a", job => job with { Status = JobStatus.Running }, null, default);
        clock.Now += TimeSpan.FromSeconds(50);
        JobResponse? stillThere = await store.GetAsync("a", default);
        clock.Now += TimeSpan.FromSeconds(11);
        JobResponse? expired = await store.GetAsync("a", default);

        Assert.Equal(JobStatus.Running, stillThere?.Status);
        Assert.Null(expired);
    }

    [Fact]
    public async Task ReadersGetPastEventsThenLiveOnesUntilTheTerminalEvent()
    {
        var clock = new ManualClock();
        var store = new InMemoryJobStore(Microsoft.Extensions.Options.Options.Create(new JobOptions()), clock);
        await store.AddAsync(Job("a", clock.Now), Event(JobEventNames.Queued, "a", clock.Now), default);
        var seen = new List<string>();

        Task reading = Task.Run(async () =>
        {
            await foreach (JobEvent evt in store.ReadEventsAsync("a", default)) seen.Add(evt.Event);
        });
        await store.UpdateAsync("a", job => job, Event(JobEventNames.Step, "a", clock.Now), default);
        await store.UpdateAsync("a", job => job, Event(JobEventNames.Completed, "a", clock.Now), default);
        await store.UpdateAsync("a", job => job, Event(JobEventNames.Step, "a", clock.Now), default);
        await reading.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal([JobEventNames.Queued, JobEventNames.Step, JobEventNames.Completed], seen);
    }
}
