using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Contracts.Jobs;

namespace Glance.Api.Jobs;

/// <summary>How a job that did not complete is recorded: the problem it reports, its status and its terminal event.</summary>
internal static class JobEndings
{
    /// <param name="failure">The problem of an engine failure (generation and training report their own).</param>
    public static (ProblemKind Kind, string Status, string EventName) Of(WorkOutcome outcome, ProblemKind failure) => outcome switch
    {
        WorkOutcome.Cancelled => (ProblemKind.Cancelled, JobStatus.Cancelled, JobEventNames.Cancelled),
        WorkOutcome.ShutDown => (ProblemKind.ShuttingDown, JobStatus.Cancelled, JobEventNames.Cancelled),
        WorkOutcome.TimedOut => (ProblemKind.Timeout, JobStatus.Failed, JobEventNames.Failed),
        WorkOutcome.EngineUnavailable => (ProblemKind.EngineUnavailable, JobStatus.Failed, JobEventNames.Failed),
        _ => (failure, JobStatus.Failed, JobEventNames.Failed),
    };

    /// <summary>
    /// Records a job's end: its status, the error when a problem kind is given, its last timings, and the terminal event
    /// at the step and phase it reached. Only the job's follower writes it, so the state read here is the one the update
    /// applies to. <paramref name="alsoChange"/> adds what a kind of job records besides.
    /// </summary>
    public static async Task FinishAsync(
        IJobStore store, TimeProvider time, string id, string status, string eventName, ProblemKind? kind, string? detail,
        IReadOnlyDictionary<string, double> timings, Func<JobResponse, JobResponse>? alsoChange = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        DateTimeOffset at = time.GetUtcNow();
        JobError? error = kind is null ? null : new JobError(kind.Type, kind.Title, detail ?? kind.Title);
        JobResponse? current = await store.GetAsync(id, CancellationToken.None).ConfigureAwait(false);
        if (current is null) return;
        JobResponse Change(JobResponse job)
        {
            var ended = job with { Status = status, CompletedAt = at, Error = error, Timings = timings };
            return alsoChange is null ? ended : alsoChange(ended);
        }
        await store.UpdateAsync(id, Change, new JobEvent(eventName, id, current.Step, current.TotalSteps, current.Phase, at, error), CancellationToken.None)
            .ConfigureAwait(false);
    }
}
