namespace Glance.Api.Scheduling;

internal enum WorkOutcome
{
    Completed,
    /// <summary>The engine threw while this request took part in a call.</summary>
    Failed,
    /// <summary>The client went away or cancelled the job.</summary>
    Cancelled,
    /// <summary>The per-request timeout elapsed.</summary>
    TimedOut,
    /// <summary>The server stopped before the request finished.</summary>
    ShutDown,
    /// <summary>The engine could not be loaded.</summary>
    EngineUnavailable,
}

/// <summary>How a request ended; <see cref="Png"/> is set only when it completed.</summary>
internal sealed record WorkResult(WorkOutcome Outcome, byte[]? Png, string? Error)
{
    public static WorkResult Completed(byte[] png) => new(WorkOutcome.Completed, png, null);

    public static WorkResult Ended(WorkOutcome outcome, string error) => new(outcome, null, error);
}
