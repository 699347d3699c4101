using Glance.Api.Options;
using Microsoft.Extensions.Options;

namespace Glance.Api.Scheduling;

internal enum SubmitStatus
{
    Accepted,
    /// <summary>The engine is still loading.</summary>
    NotReady,
    /// <summary>The server is shutting down.</summary>
    Draining,
    /// <summary>The engine failed to load.</summary>
    Unavailable,
    QueueFull,
}

/// <summary>The endpoints' way in: admission checks, the queue, and a Retry-After estimate for refusals.</summary>
internal sealed class GenerationScheduler(RequestQueue queue, ServerLifecycle lifecycle, IOptions<QueueOptions> queueOptions)
{
    // Smoothed time from arrival to finished image; 0 until the first completion.
    double smoothedLatencySeconds;

    public SubmitStatus Submit(IReadOnlyList<WorkItem> items)
    {
        switch (lifecycle.State)
        {
            case ServerState.Loading: return SubmitStatus.NotReady;
            case ServerState.Faulted: return SubmitStatus.Unavailable;
            case ServerState.Draining or ServerState.Stopped: return SubmitStatus.Draining;
        }
        return queue.TryEnqueue(items) switch
        {
            EnqueueResult.Accepted => SubmitStatus.Accepted,
            EnqueueResult.Full => SubmitStatus.QueueFull,
            _ => SubmitStatus.Draining,
        };
    }

    /// <summary>Seconds a refused client should wait: about one request's latency, between 1 s and 1 min.</summary>
    public int RetryAfterSeconds
    {
        get
        {
            double latency = Volatile.Read(ref smoothedLatencySeconds);
            if (latency <= 0) return queueOptions.Value.DefaultRetryAfterSeconds;
            return (int)Math.Clamp(Math.Ceiling(latency), 1, 60);
        }
    }

    public void RecordLatency(TimeSpan latency)
    {
        double previous = Volatile.Read(ref smoothedLatencySeconds);
        double next = previous <= 0 ? latency.TotalSeconds : (0.8 * previous) + (0.2 * latency.TotalSeconds);
        Volatile.Write(ref smoothedLatencySeconds, next);
    }
}
