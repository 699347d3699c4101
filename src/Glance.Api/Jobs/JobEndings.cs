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
}
