using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Glance.Api.Options;
using Glance.Contracts.Jobs;
using Microsoft.Extensions.Options;

namespace Glance.Api.Jobs;

/// <summary>Jobs in this process's memory; an entry expires <see cref="JobOptions.Ttl"/> after its last change.</summary>
internal sealed class InMemoryJobStore(IOptions<JobOptions> options, TimeProvider time) : IJobStore
{
    readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    long lastSweep;

    TimeSpan Ttl => options.Value.Ttl;

    public Task AddAsync(JobResponse job, JobEvent created, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        SweepExpired();
        var entry = new Entry(job, time.GetUtcNow());
        entry.Append(created);
        if (!entries.TryAdd(job.Id, entry)) throw new InvalidOperationException($"Job '{job.Id}' already exists.");
        return Task.CompletedTask;
    }

    public Task<JobResponse?> GetAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(Find(id)?.Job);

    public Task<JobResponse?> UpdateAsync(string id, Func<JobResponse, JobResponse> change, JobEvent? evt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        Entry? entry = Find(id);
        if (entry is null) return Task.FromResult<JobResponse?>(null);
        return Task.FromResult<JobResponse?>(entry.Update(change, evt, time.GetUtcNow()));
    }

    public Task SetImageAsync(string id, byte[] png, CancellationToken cancellationToken)
    {
        Find(id)?.SetImage(png, time.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task<byte[]?> GetImageAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(Find(id)?.Image);

    public async IAsyncEnumerable<JobEvent> ReadEventsAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Entry? entry = Find(id);
        if (entry is null) yield break;
        int next = 0;
        while (true)
        {
            (IReadOnlyList<JobEvent> events, Task changed) = entry.EventsFrom(next);
            foreach (JobEvent evt in events)
            {
                yield return evt;
                if (JobEventNames.IsTerminal(evt.Event)) yield break;
            }
            next += events.Count;
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    Entry? Find(string id)
    {
        SweepExpired();
        return entries.TryGetValue(id, out Entry? entry) && !IsExpired(entry) ? entry : null;
    }

    bool IsExpired(Entry entry) => time.GetUtcNow() - entry.LastChange > Ttl;

    // Sweeping at most every tenth of the TTL keeps lookups cheap while bounding how long expired jobs linger.
    void SweepExpired()
    {
        long now = time.GetTimestamp();
        long last = Interlocked.Read(ref lastSweep);
        if (last != 0 && time.GetElapsedTime(last, now) < Ttl / 10) return;
        if (Interlocked.CompareExchange(ref lastSweep, now, last) != last) return;
        foreach ((string id, Entry entry) in entries)
            if (IsExpired(entry)) entries.TryRemove(id, out _);
    }

    sealed class Entry(JobResponse job, DateTimeOffset createdAt)
    {
        readonly Lock gate = new();
        readonly List<JobEvent> events = [];
        TaskCompletionSource changed = NewSignal();

        public JobResponse Job { get; private set; } = job;
        public byte[]? Image { get; private set; }
        public DateTimeOffset LastChange { get; private set; } = createdAt;

        public void Append(JobEvent evt)
        {
            lock (gate) AppendLocked(evt);
        }

        public JobResponse Update(Func<JobResponse, JobResponse> change, JobEvent? evt, DateTimeOffset now)
        {
            lock (gate)
            {
                Job = change(Job);
                LastChange = now;
                if (evt is not null) AppendLocked(evt);
                return Job;
            }
        }

        public void SetImage(byte[] png, DateTimeOffset now)
        {
            lock (gate)
            {
                Image = png;
                LastChange = now;
            }
        }

        public (IReadOnlyList<JobEvent> Events, Task Changed) EventsFrom(int index)
        {
            lock (gate) return (events.GetRange(index, events.Count - index), changed.Task);
        }

        void AppendLocked(JobEvent evt)
        {
            events.Add(evt);
            changed.TrySetResult();
            changed = NewSignal();
        }

        static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
