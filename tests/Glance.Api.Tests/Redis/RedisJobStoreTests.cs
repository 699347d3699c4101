using Glance.Api.Jobs;
using Glance.Api.Options;
using Glance.Contracts.Jobs;
using StackExchange.Redis;

namespace Glance.Api.Tests.Redis;

[Collection(RedisTests.Name)]
public sealed class RedisJobStoreTests(RedisServer server) : IAsyncLifetime
{
    static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    readonly JobOptions options = new() { Redis = server.ConnectionString, RedisKeyPrefix = RedisServer.UniquePrefix(), TtlSeconds = 60 };
    ConnectionMultiplexer redis = null!;

    RedisJobKeys Keys => new(options.RedisKeyPrefix);

    public async Task InitializeAsync() => redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);

    public async Task DisposeAsync() => await redis.DisposeAsync();

    RedisJobStore Store() => new(redis, Microsoft.Extensions.Options.Options.Create(options));

    static JobResponse Job(string id) => new(id, JobStatus.Queued, 1, 0, 4, null, new Dictionary<string, double> { ["queue"] = 1.5 }, At, null, null);

    static JobEvent Event(string name, string id, int step = 0) => new(name, id, step, 4, null, At);

    [Fact]
    public async Task JobRoundTripsThroughRedis()
    {
        RedisJobStore store = Store();
        await store.AddAsync(Job("a"), Event(JobEventNames.Queued, "a"), default);
        await store.SetImageAsync("a", [1, 2, 3], default);

        JobResponse? job = await store.GetAsync("a", default);

        Assert.Equal(Job("a") with { Timings = job!.Timings }, job);
        Assert.Equal(1.5, job.Timings["queue"]);
        Assert.Equal(new byte[] { 1, 2, 3 }, await store.GetImageAsync("a", default));
    }

    [Fact]
    public async Task EveryKeyOfAJobExpiresTtlAfterItsLastChange()
    {
        // Redis counts expiry on its own clock, so the margins are wide: the keys are left a minute, which the update
        // must push back to an hour; only a stall of a minute between two commands here could flip the check.
        options.TtlSeconds = 3600;
        TimeSpan nearlyOver = TimeSpan.FromSeconds(60);
        RedisJobStore store = Store();
        IDatabase db = redis.GetDatabase();
        await store.AddAsync(Job("a"), Event(JobEventNames.Queued, "a"), default);
        await store.SetImageAsync("a", [1], default);
        // As if most of the TTL had passed: a change must push every key's expiry back to the full TTL.
        foreach (RedisKey key in new[] { Keys.Job("a"), Keys.Events("a"), Keys.Image("a") })
            await db.KeyExpireAsync(key, nearlyOver);

        await store.UpdateAsync("a", job => job with { Status = JobStatus.Running }, Event(JobEventNames.Step, "a", 1), default);

        foreach (RedisKey key in new[] { Keys.Job("a"), Keys.Events("a"), Keys.Image("a") })
        {
            TimeSpan? ttl = await db.KeyTimeToLiveAsync(key);
            Assert.True(ttl > nearlyOver && ttl <= TimeSpan.FromSeconds(3600), $"{key} expires in {ttl}, not about an hour.");
        }
    }

    [Fact]
    public async Task AddingAnotherJobUnderAnExistingIdFails()
    {
        RedisJobStore store = Store();
        await store.AddAsync(Job("a"), Event(JobEventNames.Queued, "a"), default);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.AddAsync(Job("a") with { Seed = 2 }, Event(JobEventNames.Queued, "a"), default));
        Assert.Equal(1, (await store.GetAsync("a", default))!.Seed);
    }

    [Fact]
    public async Task ConcurrentUpdatesAllApply()
    {
        RedisJobStore store = Store();
        await store.AddAsync(Job("a"), Event(JobEventNames.Queued, "a"), default);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
            store.UpdateAsync("a", job => job with { Step = job.Step + 1 }, Event(JobEventNames.Step, "a"), default))));

        Assert.Equal(20, (await store.GetAsync("a", default))!.Step);
        Assert.Equal(21, await redis.GetDatabase().ListLengthAsync(Keys.Events("a")));
    }

    [Fact]
    public async Task MissingJobReadsAsNothing()
    {
        RedisJobStore store = Store();
        var events = new List<JobEvent>();

        await foreach (JobEvent evt in store.ReadEventsAsync("nope", default)) events.Add(evt);

        Assert.Null(await store.GetAsync("nope", default));
        Assert.Null(await store.UpdateAsync("nope", job => job, Event(JobEventNames.Step, "nope"), default));
        Assert.Null(await store.GetImageAsync("nope", default));
        Assert.Empty(events);
        Assert.False(await redis.GetDatabase().KeyExistsAsync(Keys.Events("nope")));
    }

    [Fact]
    public async Task ReadersGetPastEventsThenLiveOnesUntilTheTerminalEvent()
    {
        RedisJobStore store = Store();
        await store.AddAsync(Job("a"), Event(JobEventNames.Queued, "a"), default);
        await store.UpdateAsync("a", job => job, Event(JobEventNames.Phase, "a"), default);
        var seen = new List<string>();
        var firstTwo = new TaskCompletionSource();

        Task reading = Task.Run(async () =>
        {
            await foreach (JobEvent evt in store.ReadEventsAsync("a", default))
            {
                seen.Add(evt.Event);
                if (seen.Count == 2) firstTwo.SetResult();
            }
        });
        await firstTwo.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await store.UpdateAsync("a", job => job, Event(JobEventNames.Step, "a", 1), default);
        await store.UpdateAsync("a", job => job, Event(JobEventNames.Completed, "a", 1), default);
        await store.UpdateAsync("a", job => job, Event(JobEventNames.Step, "a", 2), default);
        await reading.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal([JobEventNames.Queued, JobEventNames.Phase, JobEventNames.Step, JobEventNames.Completed], seen);
    }
}
