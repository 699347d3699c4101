namespace Glance.Contracts.Jobs;

/// <summary>The event names a job's server-sent event stream uses, in the order they occur.</summary>
public static class JobEventNames
{
    public const string Queued = "queued";
    public const string Phase = "phase";
    public const string Step = "step";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsTerminal(string name) => name is Completed or Failed or Cancelled;
}

/// <summary>One event of a job's life: its data payload on the event stream.</summary>
/// <param name="Event">One of <see cref="JobEventNames"/>.</param>
/// <param name="Step">Steps completed when the event occurred.</param>
/// <param name="Phase">For step: the step's phase; for phase: the phase now entered.</param>
/// <param name="Loss">Training jobs' step events: the step's loss.</param>
/// <param name="EtaSeconds">Training jobs' step events: estimated seconds left.</param>
public sealed record JobEvent(
    string Event,
    string JobId,
    int Step,
    int TotalSteps,
    string? Phase,
    DateTimeOffset At,
    JobError? Error = null,
    double? Loss = null,
    double? EtaSeconds = null);
