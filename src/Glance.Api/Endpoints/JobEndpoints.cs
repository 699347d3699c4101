using Glance.Api.Adapters;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Glance.Api.Catalog;
using Glance.Api.Jobs;
using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Api.Security;
using Glance.Api.Validation;
using Glance.Contracts.Generation;
using Glance.Contracts.Jobs;
using Glance.Engine.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Glance.Api.Endpoints;

/// <summary>Asynchronous jobs: submit, poll, fetch the image, follow events, cancel.</summary>
internal static class JobEndpoints
{
    public static IEndpointRouteBuilder MapJobEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder jobs = app.MapGroup("/jobs")
            .WithTags("Jobs")
            .RequireRateLimiting(RateLimiting.PerClientPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        jobs.MapPost("/", SubmitAsync)
            .WithName("SubmitJob")
            .WithSummary("Queue an image and return at once (202, Location: /jobs/{id}).")
            .Accepts<GenerateRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        jobs.MapGet("/{id}", GetAsync)
            .WithName("GetJob")
            .WithSummary("A job's status, step and phase progress, timings and error (training jobs: their set, settings, loss and time left).");
        jobs.MapGet("/{id}/image", GetImageAsync)
            .WithName("GetJobImage")
            .WithSummary("The finished job's PNG (409 until it completes).")
            .Produces<Stream>(StatusCodes.Status200OK, "image/png");
        jobs.MapGet("/{id}/events", FollowAsync)
            .WithName("FollowJob")
            .WithSummary("Server-sent events: queued, phase, step ..., then completed, failed or cancelled.")
            .Produces<JobEvent>(StatusCodes.Status200OK, "text/event-stream");
        jobs.MapDelete("/{id}", CancelAsync)
            .WithName("CancelJob")
            .WithSummary("Cancel a job; it stops at its next step boundary.");
        return app;
    }

    static async Task<Results<Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        [FromBody] GenerateRequest request, HttpContext http, ServerLifecycle lifecycle, JobRunner runner, GenerationScheduler scheduler,
        AdapterRegistry adapters, ModelCatalog catalog)
    {
        if (GenerationProblems.EngineProblem(lifecycle, out EngineDescription? engine) is { } unavailable) return unavailable;
        if (catalog.Unknown(request.Model, engine!) is { } unknownModel) return unknownModel;
        GenerationSpec? spec = GenerateRequestValidation.Validate(request, engine!, out FieldErrors errors);
        if (spec is null) return GenerationProblems.Invalid(errors);
        if (GenerationProblems.MissingAdapterSet([spec], adapters) is { } missing) return missing;
        http.Response.Headers[GenerateEndpoints.AdaptersHeader] = spec.AdapterSetName;
        (SubmitStatus status, JobResponse? job) = await runner.SubmitAsync(spec, http.TraceIdentifier, http.RequestAborted).ConfigureAwait(false);
        if (job is null) return GenerationProblems.Refused(status, http.Response, scheduler.RetryAfterSeconds);
        return TypedResults.Accepted($"/jobs/{job.Id}", job);
    }

    static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> GetAsync(string id, IJobStore store, CancellationToken cancellationToken)
    {
        JobResponse? job = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return job is null ? NotFound(id) : TypedResults.Ok(job);
    }

    static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetImageAsync(string id, IJobStore store, CancellationToken cancellationToken)
    {
        JobResponse? job = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (job is null) return NotFound(id);
        if (job.Training is { } training)
            return ProblemKind.JobNotCompleted.ToResult($"Job '{id}' is a training job: it makes adapter set '{training.AdapterSet}' (GET /v1/adapters/{training.AdapterSet}), not an image.");
        byte[]? png = job.Status == JobStatus.Completed ? await store.GetImageAsync(id, cancellationToken).ConfigureAwait(false) : null;
        if (png is null)
            return ProblemKind.JobNotCompleted.ToResult($"Job '{id}' is {job.Status}; its image exists once it is {JobStatus.Completed}.");
        return TypedResults.File(png, "image/png");
    }

    static async Task<Results<ServerSentEventsResult<JobEvent>, ProblemHttpResult>> FollowAsync(
        string id, IJobStore store, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is null) return NotFound(id);
        return TypedResults.ServerSentEvents(AsSse(store.ReadEventsAsync(id, cancellationToken), cancellationToken));
    }

    static async IAsyncEnumerable<SseItem<JobEvent>> AsSse(
        IAsyncEnumerable<JobEvent> events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (JobEvent evt in events.WithCancellation(cancellationToken).ConfigureAwait(false))
            yield return new SseItem<JobEvent>(evt, evt.Event);
    }

    static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> CancelAsync(
        string id, IJobStore store, JobRunner runner, CancellationToken cancellationToken)
    {
        JobResponse? job = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (job is null) return NotFound(id);
        if (JobStatus.IsTerminal(job.Status) || !await runner.CancelAsync(id, cancellationToken).ConfigureAwait(false))
            return ProblemKind.JobFinished.ToResult($"Job '{id}' is {job.Status}; there is nothing to cancel.");
        return TypedResults.Accepted($"/jobs/{id}", job);
    }

    static ProblemHttpResult NotFound(string id) => ProblemKind.JobNotFound.ToResult($"There is no job '{id}'.");
}
