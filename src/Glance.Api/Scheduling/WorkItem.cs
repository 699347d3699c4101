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
    readonly TimeProvider time;
    readonly long deadline;
    readonly ChannelWriter<WorkProgress>? progress;
    readonly TaskCompletionSource<WorkResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int endClaimed;

    public WorkItem(
        GenerationSpec spec,
        string requestId,
        TimeSpan timeoutAfter,
        TimeProvider time,
        CancellationToken callerToken,
        ChannelWriter<WorkProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(time);
        Spec = spec;
        RequestId = requestId;
        this.callerToken = callerToken;
        this.progress = progress;
        this.time = time;
        Id = Interlocked.Increment(ref lastId);
        CreatedAtUtc = DateTimeOffset.UtcNow;
        Timings = new RequestTimings(Stopwatch.GetTimestamp());
        LastProgressAt = Timings.EnqueuedAt;
        // The time limit runs on the injected clock (the system's in the server), so tests can make it pass at will.
        deadline = DeadlineAfter(time.GetTimestamp(), timeoutAfter, time.TimestampFrequency);
        timeout = new CancellationTokenSource(timeoutAfter, time);
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

    /// <summary>The encoders that cut this request's prompts; set by the engine thread at start, read once completed.</summary>
    public IReadOnlyList<PromptTruncation> Truncations { get; set; } = [];

    /// <summary>The engine's state once started; engine thread only.</summary>
    public GenerationState? State { get; set; }

    public CancellationToken Cancellation => linked.Token;

    /// <summary>
    /// Cancelled by the caller, or past the deadline. The deadline is read from the clock, not only from the timeout's
    /// timer: under a starved thread pool the timer callback can run late (seen in CI: a 0.2 s timeout that had not
    /// fired after 0.8 s of steps), and the worker must still drop the request at the next step boundary.
    /// </summary>
    public bool IsCancellationRequested => linked.IsCancellationRequested || IsPastDeadline;

    bool IsPastDeadline => time.GetTimestamp() >= deadline;

    public Task<WorkResult> Completion => completion.Task;
    public bool IsCompleted => completion.Task.IsCompleted;

    /// <summary>Why the request was cancelled: its own timeout, or its caller.</summary>
    public WorkOutcome CancellationOutcome =>
        (timeout.IsCancellationRequested || IsPastDeadline) && !callerToken.IsCancellationRequested ? WorkOutcome.TimedOut : WorkOutcome.Cancelled;

    static long DeadlineAfter(long start, TimeSpan timeoutAfter, long frequency)
    {
        if (timeoutAfter < TimeSpan.Zero) return long.MaxValue; // infinite
        double ticks = timeoutAfter.TotalSeconds * frequency;
        return ticks >= long.MaxValue - start ? long.MaxValue : start + (long)ticks;
    }

    public void Report(WorkProgress report) => progress?.TryWrite(report);

    /// <summary>Claims the ending of this request for one caller: true the first time only.</summary>
    public bool TryClaimEnd() => Interlocked.Exchange(ref endClaimed, 1) == 0;

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
