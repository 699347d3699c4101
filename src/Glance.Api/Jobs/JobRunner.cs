using Glance.Contracts.Generation;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Glance.Api.Options;
using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Api.Telemetry;
using Glance.Contracts.Jobs;
using Glance.Engine.Serving;
using Microsoft.Extensions.Options;

namespace Glance.Api.Jobs;

/// <summary>
/// Runs asynchronous jobs: submits them to the scheduler, copies the engine's progress into the job store as
/// status changes and events, and cancels them on request: its own jobs directly, others' through
/// <see cref="IJobCancellation"/> (which also tells it of requests made on other replicas).
/// </summary>
internal sealed class JobRunner(
    GenerationScheduler scheduler,
    IJobStore store,
    IJobCancellation remote,
    TimeProvider time,
    IOptions<RequestOptions> requestOptions,
    ILogger<JobRunner> logger)
{
    readonly ConcurrentDictionary<string, CancellationTokenSource> active = new(StringComparer.Ordinal);

    /// <summary>Submits the job; returns it with its first state when accepted.</summary>
    public async Task<(SubmitStatus Status, JobResponse? Job)> SubmitAsync(GenerationSpec spec, string requestId, CancellationToken cancellationToken)
    {
        string id = Guid.NewGuid().ToString("N");
        var cancellation = new CancellationTokenSource();
        var progress = Channel.CreateUnbounded<WorkProgress>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var item = new WorkItem(spec, requestId, requestOptions.Value.Timeout, time, cancellation.Token, progress.Writer);
        SubmitStatus status = scheduler.Submit([item]);
        if (status != SubmitStatus.Accepted)
        {
            item.Dispose();
            cancellation.Dispose();
            return (status, null);
        }
        // Progress waits in the channel until the follower starts, so the job can be stored after submission.
        DateTimeOffset now = time.GetUtcNow();
        var job = new JobResponse(id, JobStatus.Queued, spec.Seed, 0, 0, null, new Dictionary<string, double>(), now, null, null);
        try
        {
            await store.AddAsync(job, new JobEvent(JobEventNames.Queued, id, 0, 0, null, now), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await cancellation.CancelAsync().ConfigureAwait(false);
            throw;
        }
        active[id] = cancellation;
        _ = Task.Run(() => FollowAsync(id, item, progress.Reader, cancellation), CancellationToken.None);
        return (status, job);
    }

    /// <summary>Lets <see cref="Cancel"/> reach a job that another runner (adapter training) follows here.</summary>
    public void Track(string id, CancellationTokenSource cancellation) => active[id] = cancellation;

    public void Untrack(string id) => active.TryRemove(id, out _);

    /// <summary>
    /// Asks a job to stop at its next step boundary, here or on the replica that runs it; false when no replica
    /// can be asked (jobs in process memory, and this one is not running here).
    /// </summary>
    public async Task<bool> CancelAsync(string id, CancellationToken cancellationToken) =>
        Cancel(id) || await remote.RequestAsync(id, cancellationToken).ConfigureAwait(false);

    /// <summary>Whether a job running here has been asked to stop (it does so at its next step boundary).</summary>
    public bool IsCancelling(string id) => active.TryGetValue(id, out CancellationTokenSource? cancellation) && cancellation.IsCancellationRequested;

    /// <summary>Asks a job to stop at its next step boundary; false when it is not running here.</summary>
    public bool Cancel(string id)
    {
        if (!active.TryGetValue(id, out CancellationTokenSource? cancellation)) return false;
        try
        {
            cancellation.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    async Task FollowAsync(string id, WorkItem item, ChannelReader<WorkProgress> progress, CancellationTokenSource cancellation)
    {
        try
        {
            string? phase = null;
            await foreach (WorkProgress report in progress.ReadAllAsync().ConfigureAwait(false))
            {
                if (report.Kind == WorkProgressKind.Started)
                {
                    await Update(id, job => job with { Status = JobStatus.Running, TotalSteps = report.TotalSteps, Timings = report.Timings, PromptTruncated = TruncationsOf(item) }, null).ConfigureAwait(false);
                    continue;
                }
                // A cancel whose message this replica missed is still seen here, one step late at worst.
                if (!cancellation.IsCancellationRequested && await remote.IsRequestedAsync(id, CancellationToken.None).ConfigureAwait(false))
                    await cancellation.CancelAsync().ConfigureAwait(false);
                DateTimeOffset at = time.GetUtcNow();
                if (report.Phase != phase)
                {
                    phase = report.Phase;
                    await Update(id, job => job, new JobEvent(JobEventNames.Phase, id, report.Step - 1, report.TotalSteps, phase, at)).ConfigureAwait(false);
                }
                await Update(
                    id,
                    job => job with { Step = report.Step, TotalSteps = report.TotalSteps, Phase = report.Phase, Timings = report.Timings },
                    new JobEvent(JobEventNames.Step, id, report.Step, report.TotalSteps, report.Phase, at)).ConfigureAwait(false);
            }
            WorkResult result = await item.Completion.ConfigureAwait(false);
            IReadOnlyDictionary<string, double> timings = item.Timings.ToMilliseconds();
            if (result.Outcome == WorkOutcome.Completed)
            {
                await store.SetImageAsync(id, result.Png!, CancellationToken.None).ConfigureAwait(false);
                await Finish(id, JobStatus.Completed, JobEventNames.Completed, null, null, timings).ConfigureAwait(false);
                return;
            }
            (ProblemKind kind, string status, string eventName) = JobEndings.Of(result.Outcome, ProblemKind.EngineFailure);
            await Finish(id, status, eventName, kind, result.Error, timings).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Runs unobserved: a store failure is logged, never thrown into the void.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.JobUpdateFailed(logger, id, ex);
        }
        finally
        {
            active.TryRemove(id, out _);
            cancellation.Dispose();
            item.Dispose();
        }
    }

    Task Finish(string id, string status, string eventName, ProblemKind? kind, string? detail, IReadOnlyDictionary<string, double> timings) =>
        JobEndings.FinishAsync(store, time, id, status, eventName, kind, detail, timings);

    Task<JobResponse?> Update(string id, Func<JobResponse, JobResponse> change, JobEvent? evt) =>
        store.UpdateAsync(id, change, evt, CancellationToken.None);

    /// <summary>What the engine reported at the job's start (set on the engine thread before the start report was sent).</summary>
    static IReadOnlyList<PromptTruncationInfo>? TruncationsOf(WorkItem item) =>
        item.Truncations.Count == 0 ? null : [.. item.Truncations.Select(t => new PromptTruncationInfo(t.Field, t.Encoder, t.Tokens, t.Kept))];
}
