using System.Diagnostics;
using System.Threading.Channels;
using Glance.Engine.Serving;

namespace Glance.Api.Scheduling;

/// <summary>
/// One image request on its way through the queue and the engine. The engine thread owns <see cref="State"/>;
/// everyone else observes <see cref="Completion"/>, which is set exactly once.
/// </summary>
internal sealed class WorkItem : IDisposable
{
    static long lastId;

    readonly CancellationTokenSource timeout;
    readonly CancellationTokenSource linked;
    readonly CancellationToken callerToken;
    readonly ChannelWriter<WorkProgress>? progress;
    readonly TaskCompletionSource<WorkResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WorkItem(
        GenerationSpec spec,
        string requestId,
        TimeSpan timeoutAfter,
        CancellationToken callerToken,
        ChannelWriter<WorkProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        RequestId = requestId;
        this.callerToken = callerToken;
        this.progress = progress;
        Id = Interlocked.Increment(ref lastId);
        CreatedAtUtc = DateTimeOffset.UtcNow;
        Timings = new RequestTimings(Stopwatch.GetTimestamp());
        LastProgressAt = Timings.EnqueuedAt;
        timeout = new CancellationTokenSource(timeoutAfter);
        linked = CancellationTokenSource.CreateLinkedTokenSource(callerToken, timeout.Token);
    }

    /// <summary>Unique and increasing in creation order, so it doubles as the fairness tie-breaker.</summary>
    public long Id { get; }

    public GenerationSpec Spec { get; }
    public string RequestId { get; }
    public DateTimeOffset CreatedAtUtc { get; }
    public RequestTimings Timings { get; }

    /// <summary>Stopwatch timestamp of the request's last progress (arrival, then each step); engine thread only.</summary>
    public long LastProgressAt { get; set; }

    /// <summary>The engine's state once started; engine thread only.</summary>
    public GenerationState? State { get; set; }

    public CancellationToken Cancellation => linked.Token;
    public bool IsCancellationRequested => linked.IsCancellationRequested;
    public Task<WorkResult> Completion => completion.Task;
    public bool IsCompleted => completion.Task.IsCompleted;

    /// <summary>Why the request was cancelled: its own timeout, or its caller.</summary>
    public WorkOutcome CancellationOutcome =>
        timeout.IsCancellationRequested && !callerToken.IsCancellationRequested ? WorkOutcome.TimedOut : WorkOutcome.Cancelled;

    public void Report(WorkProgress report) => progress?.TryWrite(report);

    /// <summary>Disposes the engine state, if any, and publishes the result; later calls do nothing.</summary>
    public bool Complete(WorkResult result)
    {
        State?.Dispose();
        State = null;
        if (!completion.TrySetResult(result)) return false;
        progress?.TryComplete();
        return true;
    }

    public void Dispose()
    {
        linked.Dispose();
        timeout.Dispose();
    }
}
