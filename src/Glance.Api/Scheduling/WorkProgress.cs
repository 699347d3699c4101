namespace Glance.Api.Scheduling;

internal enum WorkProgressKind
{
    /// <summary>The engine started the request (text encoded, noise drawn).</summary>
    Started,
    /// <summary>The request completed one denoising step.</summary>
    Step,
}

/// <summary>A progress report written by the engine thread for those following a request (jobs).</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="Phase">Phase of the step just completed; null for <see cref="WorkProgressKind.Started"/>.</param>
/// <param name="Timings">Milliseconds per stage so far.</param>
internal sealed record WorkProgress(
    WorkProgressKind Kind,
    int Step,
    int TotalSteps,
    string? Phase,
    IReadOnlyDictionary<string, double> Timings);
