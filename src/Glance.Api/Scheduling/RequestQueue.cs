namespace Glance.Api.Scheduling;

internal enum EnqueueResult
{
    Accepted,
    Full,
    /// <summary>The worker has stopped for good.</summary>
    Closed,
}

/// <summary>
/// Requests waiting for the engine, bounded. Not first-in-first-out: the worker takes whichever ones the
/// batch policy admits. Wakes the worker whenever there is something new for it to look at.
/// </summary>
internal sealed class RequestQueue(int capacity) : IDisposable
{
    readonly Lock gate = new();
    readonly List<WorkItem> waiting = [];
    readonly ManualResetEventSlim wake = new(false);
    bool closed;

    public int Capacity { get; } = capacity;

    public int Count
    {
        get
        {
            lock (gate) return waiting.Count;
        }
    }

    /// <summary>Adds all the items or none of them.</summary>
    public EnqueueResult TryEnqueue(IReadOnlyList<WorkItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        lock (gate)
        {
            if (closed) return EnqueueResult.Closed;
            if (waiting.Count + items.Count > Capacity) return EnqueueResult.Full;
            waiting.AddRange(items);
        }
        foreach (WorkItem item in items)
            item.Cancellation.Register(Wake);
        Wake();
        return EnqueueResult.Accepted;
    }

    public IReadOnlyList<WorkItem> Snapshot()
    {
        lock (gate) return [.. waiting];
    }

    /// <summary>Removes and returns the items with these ids that are still waiting.</summary>
    public IReadOnlyList<WorkItem> Take(IReadOnlyCollection<long> ids)
    {
        lock (gate)
        {
            List<WorkItem> taken = waiting.FindAll(item => ids.Contains(item.Id));
            waiting.RemoveAll(item => ids.Contains(item.Id));
            return taken;
        }
    }

    public IReadOnlyList<WorkItem> TakeCancelled()
    {
        lock (gate)
        {
            List<WorkItem> cancelled = waiting.FindAll(item => item.IsCancellationRequested);
            waiting.RemoveAll(item => item.IsCancellationRequested);
            return cancelled;
        }
    }

    /// <summary>Removes and returns everything waiting; when <paramref name="close"/>, refuses all later items.</summary>
    public IReadOnlyList<WorkItem> TakeAll(bool close)
    {
        lock (gate)
        {
            closed |= close;
            List<WorkItem> all = [.. waiting];
            waiting.Clear();
            return all;
        }
    }

    public void Wake() => wake.Set();

    /// <summary>Clears the wake-up signal; call before checking for work so that no wake-up is lost.</summary>
    public void ResetWake() => wake.Reset();

    public void WaitForWake(TimeSpan timeout) => wake.Wait(timeout);

    public void Dispose() => wake.Dispose();
}
