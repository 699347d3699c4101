namespace Glance.Contracts.Jobs;

/// <summary>An asynchronous job as GET /jobs/{id} reports it.</summary>
/// <param name="Status">queued, running, completed, failed or cancelled.</param>
/// <param name="Step">Steps completed so far.</param>
/// <param name="TotalSteps">Steps in the request's plan (0 until it starts).</param>
/// <param name="Phase">Phase of the last completed step (slow, fast or base).</param>
/// <param name="Timings">Milliseconds per stage so far (see GenerateResponse).</param>
/// <param name="Error">Why the job failed or was cancelled.</param>
/// <param name="PromptTruncated">The text encoders that cut the prompt, once the job has started (absent when it fitted).</param>
/// <param name="Kind">"generation" (an image) or "training" (an adapter set, see <paramref name="Training"/>).</param>
/// <param name="Training">A training job's set, settings and last loss; absent for generation jobs.</param>
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
    IReadOnlyList<Generation.PromptTruncationInfo>? PromptTruncated = null,
    string Kind = JobKinds.Generation,
    JobTrainingInfo? Training = null);

/// <summary>What a job produces.</summary>
public static class JobKinds
{
    public const string Generation = "generation";
    public const string Training = "training";
}

/// <summary>A training job's adapter set and the settings it trains with (the model's recipe where the request gave none).</summary>
/// <param name="Steps">Steps per phase.</param>
/// <param name="Width">The training image's size as trained (resized to fit the model when needed).</param>
/// <param name="Loss">The last step's loss (absent before the first step).</param>
/// <param name="EtaSeconds">Estimated seconds left, from the steps done so far.</param>
public sealed record JobTrainingInfo(
    string AdapterSet,
    IReadOnlyList<string> Phases,
    int Steps,
    int Rank,
    double Alpha,
    double LearningRate,
    string Targets,
    int Width,
    int Height,
    double? Loss = null,
    double? EtaSeconds = null);

/// <summary>A failed or cancelled job's reason, with the problem type an HTTP request would have received.</summary>
public sealed record JobError(string Type, string Title, string Detail);
