namespace Glance.Contracts.Jobs;

/// <summary>An asynchronous job as GET /jobs/{id} reports it.</summary>
/// <param name="Status">queued, running, completed, failed or cancelled.</param>
/// <param name="Step">Steps completed so far.</param>
/// <param name="TotalSteps">Steps in the request's plan (0 until it starts).</param>
/// <param name="Phase">Phase of the last completed step (slow, fast or base).</param>
/// <param name="Timings">Milliseconds per stage so far (see GenerateResponse).</param>
/// <param name="Error">Why the job failed or was cancelled.</param>
/// <param name="PromptTruncated">The text encoders that cut the prompt, once the job has started (absent when it fitted).</param>
public sealed record JobResponse(
    string Id,
    string Status,
    long Seed,
    int Step,
    int TotalSteps,
    string? Phase,
    IReadOnlyDictionary<string, double> Timings,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    JobError? Error,
    IReadOnlyList<Generation.PromptTruncationInfo>? PromptTruncated = null);

/// <summary>A failed or cancelled job's reason, with the problem type an HTTP request would have received.</summary>
public sealed record JobError(string Type, string Title, string Detail);
