using System.Runtime.CompilerServices;
using System.Text.Json;
using Glance.Api.Options;
using Glance.Contracts.Jobs;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Glance.Api.Jobs;

/// <summary>
/// Jobs in Redis, shared by every replica that points at the same Redis and key prefix. Each change refreshes the
/// expiry of all the job's keys, so a job expires <see cref="JobOptions.Ttl"/> after its last change. Event readers
/// are woken by a per-job pub/sub message and also re-read every <see cref="PollInterval"/>, so a message lost
/// across a reconnect delays an event but never loses it.
/// </summary>
internal sealed class RedisJobStore(IConnectionMultiplexer redis, IOptions<JobOptions> options) : IJobStore
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    // Only a job's own follower writes it, so conflicts are rare; a bound keeps a bug from spinning forever.
    const int MaxUpdateAttempts = 32;

    RedisJobKeys Keys => new(options.Value.RedisKeyPrefix);
    TimeSpan Ttl => options.Value.Ttl;
    IDatabase Db => redis.GetDatabase();

    public async Task AddAsync(JobResponse job, JobEvent created, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        RedisJobKeys keys = Keys;
        IDatabase db = Db;
        RedisValue stored = Serialize(job);
        for (int attempt = 0; attempt < MaxUpdateAttempts; attempt++)
        {
            ITransaction transaction = db.CreateTransaction();
            transaction.AddCondition(Condition.KeyNotExists(keys.Job(job.Id)));
            _ = transaction.StringSetAsync(keys.Job(job.Id), stored, Ttl);
            _ = transaction.ListRightPushAsync(keys.Events(job.Id), Serialize(created));
            _ = transaction.KeyExpireAsync(keys.Events(job.Id), Ttl);
            if (await transaction.ExecuteAsync().ConfigureAwait(false)) return;
            // A transaction reported as not applied may still have been (or its condition check may have failed
            // without a conflict, as seen under heavy load): only someone else's job under this id is an error.
            RedisValue existing = await db.StringGetAsync(keys.Job(job.Id)).ConfigureAwait(false);
            if (existing == stored) return;
            if (!existing.IsNull) throw new InvalidOperationException($"Job '{job.Id}' already exists.");
        }
        throw new InvalidOperationException($"Job '{job.Id}' could not be stored in {MaxUpdateAttempts} attempts.");
    }

    public async Task<JobResponse?> GetAsync(string id, CancellationToken cancellationToken)
    {
        RedisValue stored = await Db.StringGetAsync(Keys.Job(id)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return stored.IsNull ? null : Deserialize<JobResponse>(stored);
    }

    public async Task<JobResponse?> UpdateAsync(string id, Func<JobResponse, JobResponse> change, JobEvent? evt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        RedisJobKeys keys = Keys;
        IDatabase db = Db;
        for (int attempt = 0; attempt < MaxUpdateAttempts; attempt++)
        {
            RedisValue stored = await db.StringGetAsync(keys.Job(id)).ConfigureAwait(false);
            if (stored.IsNull) return null;
            JobResponse updated = change(Deserialize<JobResponse>(stored));
            // Applies only if nobody changed the job since it was read: the state and its event land together.
            ITransaction transaction = db.CreateTransaction();
            transaction.AddCondition(Condition.StringEqual(keys.Job(id), stored));
            _ = transaction.StringSetAsync(keys.Job(id), Serialize(updated), Ttl);
            if (evt is not null) _ = transaction.ListRightPushAsync(keys.Events(id), Serialize(evt));
            _ = transaction.KeyExpireAsync(keys.Events(id), Ttl);
            _ = transaction.KeyExpireAsync(keys.Image(id), Ttl);
            if (!await transaction.ExecuteAsync().ConfigureAwait(false)) continue;
            if (evt is not null) await db.PublishAsync(keys.EventsChannel(id), id).ConfigureAwait(false);
            return updated;
        }
        throw new InvalidOperationException($"Job '{id}' kept changing during {MaxUpdateAttempts} update attempts.");
    }

    public async Task SetImageAsync(string id, byte[] png, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(png);
        RedisJobKeys keys = Keys;
        ITransaction transaction = Db.CreateTransaction();
        transaction.AddCondition(Condition.KeyExists(keys.Job(id)));
        _ = transaction.StringSetAsync(keys.Image(id), png, Ttl);
        _ = transaction.KeyExpireAsync(keys.Job(id), Ttl);
        _ = transaction.KeyExpireAsync(keys.Events(id), Ttl);
        await transaction.ExecuteAsync().ConfigureAwait(false);
    }

    public async Task<byte[]?> GetImageAsync(string id, CancellationToken cancellationToken)
    {
        RedisValue stored = await Db.StringGetAsync(Keys.Image(id)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return stored.IsNull ? null : (byte[])stored!;
    }

    public async IAsyncEnumerable<JobEvent> ReadEventsAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        RedisJobKeys keys = Keys;
        IDatabase db = Db;
        if (!await db.KeyExistsAsync(keys.Job(id)).WaitAsync(cancellationToken).ConfigureAwait(false)) yield break;
        // Subscribing before the first read means no event appended after that read goes unnoticed.
        ChannelMessageQueue appended = await redis.GetSubscriber().SubscribeAsync(keys.EventsChannel(id)).ConfigureAwait(false);
        try
        {
            long next = 0;
            while (true)
            {
                RedisValue[] stored = await db.ListRangeAsync(keys.Events(id), next).WaitAsync(cancellationToken).ConfigureAwait(false);
                foreach (RedisValue value in stored)
                {
                    JobEvent evt = Deserialize<JobEvent>(value);
                    yield return evt;
                    if (JobEventNames.IsTerminal(evt.Event)) yield break;
                }
                next += stored.Length;
                if (stored.Length == 0 && !await db.KeyExistsAsync(keys.Events(id)).WaitAsync(cancellationToken).ConfigureAwait(false))
                    yield break; // Expired while being followed.
                await WaitForAppendAsync(appended, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await appended.UnsubscribeAsync().ConfigureAwait(false);
        }
    }

    static async Task WaitForAppendAsync(ChannelMessageQueue appended, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(PollInterval);
        try
        {
            await appended.ReadAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed without a message: read again anyway.
        }
        // Several appends may have woken us; one read of the list covers them all.
        while (appended.TryRead(out _))
        {
        }
    }

    static RedisValue Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Json);

    static T Deserialize<T>(RedisValue stored) =>
        JsonSerializer.Deserialize<T>((byte[])stored!, Json) ?? throw new InvalidDataException($"Redis held a null {typeof(T).Name}.");
}
