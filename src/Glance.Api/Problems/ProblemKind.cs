using Microsoft.AspNetCore.Http.HttpResults;
namespace Glance.Api.Problems;

/// <summary>
/// One kind of error the API reports, with its stable "type" URI. Clients may rely on the type; titles and
/// details are for people.
/// </summary>
internal sealed record ProblemKind(string Slug, int Status, string Title)
{
    public const string TypeBase = "https://glance.dev/problems/";

    public string Type => TypeBase + Slug;

    public static ProblemKind Validation { get; } = new("validation", StatusCodes.Status400BadRequest, "The request has invalid fields.");
    public static ProblemKind MalformedRequest { get; } = new("malformed-request", StatusCodes.Status400BadRequest, "The request could not be read.");
    public static ProblemKind UnsupportedResponseFormat { get; } = new("unsupported-response-format", StatusCodes.Status400BadRequest, "The requested response format is not offered.");
    public static ProblemKind Unauthorized { get; } = new("unauthorized", StatusCodes.Status401Unauthorized, "A valid API key is required.");
    public static ProblemKind Forbidden { get; } = new("forbidden", StatusCodes.Status403Forbidden, "Access is not allowed.");
    public static ProblemKind NotFound { get; } = new("not-found", StatusCodes.Status404NotFound, "No such resource.");
    public static ProblemKind AdapterSetNotFound { get; } = new("adapter-set-not-found", StatusCodes.Status404NotFound, "No such adapter set.");
    public static ProblemKind AdapterRegistryMissing { get; } = new("adapter-registry-missing", StatusCodes.Status409Conflict, "No adapter registry folder is configured (Glance:Adapters:Path).");
    public static ProblemKind InvalidAdapterFile { get; } = new("invalid-adapter-file", StatusCodes.Status422UnprocessableEntity, "The adapter file does not fit the loaded model.");
    public static ProblemKind AdapterLimit { get; } = new("adapter-limit", StatusCodes.Status409Conflict, "The adapter registry is full.");
    public static ProblemKind AdapterNotAttached { get; } = new("adapter-not-attached", StatusCodes.Status503ServiceUnavailable, "The adapter set was stored but is not attached yet.");
    public static ProblemKind AdapterBusy { get; } = new("adapter-busy", StatusCodes.Status409Conflict, "A training job for this adapter set is already queued or running.");
    public static ProblemKind TrainingDisabled { get; } = new("training-disabled", StatusCodes.Status403Forbidden, "Adapter training is turned off on this server (Glance:Training:Enabled).");
    public static ProblemKind TrainingFailed { get; } = new("training-failed", StatusCodes.Status500InternalServerError, "The adapter training failed.");
    public static ProblemKind InvalidImage { get; } = new("invalid-image", StatusCodes.Status422UnprocessableEntity, "The image cannot be used.");
    public static ProblemKind ModelNotFound { get; } = new("model-not-found", StatusCodes.Status404NotFound, "No such model on this server.");
    public static ProblemKind JobNotFound { get; } = new("job-not-found", StatusCodes.Status404NotFound, "No such job (it may have expired).");
    public static ProblemKind MethodNotAllowed { get; } = new("method-not-allowed", StatusCodes.Status405MethodNotAllowed, "The method is not allowed on this resource.");
    public static ProblemKind NotAcceptable { get; } = new("not-acceptable", StatusCodes.Status406NotAcceptable, "No acceptable response format.");
    public static ProblemKind JobNotCompleted { get; } = new("job-not-completed", StatusCodes.Status409Conflict, "The job has no image.");
    public static ProblemKind JobFinished { get; } = new("job-finished", StatusCodes.Status409Conflict, "The job has already finished.");
    public static ProblemKind PayloadTooLarge { get; } = new("payload-too-large", StatusCodes.Status413PayloadTooLarge, "The request body is too large.");
    public static ProblemKind UnsupportedMediaType { get; } = new("unsupported-media-type", StatusCodes.Status415UnsupportedMediaType, "The request body must be JSON (Content-Type: application/json).");
    public static ProblemKind RateLimited { get; } = new("rate-limited", StatusCodes.Status429TooManyRequests, "Too many requests from this client.");
    public static ProblemKind QueueFull { get; } = new("queue-full", StatusCodes.Status429TooManyRequests, "The server's queue is full.");
    public static ProblemKind Internal { get; } = new("internal", StatusCodes.Status500InternalServerError, "An unexpected error occurred.");
    public static ProblemKind EngineFailure { get; } = new("engine-failure", StatusCodes.Status500InternalServerError, "The engine failed while generating the image.");
    public static ProblemKind NotReady { get; } = new("not-ready", StatusCodes.Status503ServiceUnavailable, "The engine is still loading.");
    public static ProblemKind ShuttingDown { get; } = new("shutting-down", StatusCodes.Status503ServiceUnavailable, "The server is shutting down.");
    public static ProblemKind EngineUnavailable { get; } = new("engine-unavailable", StatusCodes.Status503ServiceUnavailable, "The engine could not be loaded.");
    public static ProblemKind Timeout { get; } = new("timeout", StatusCodes.Status504GatewayTimeout, "The request did not finish in time.");
    public static ProblemKind Cancelled { get; } = new("cancelled", 499, "The request was cancelled.");

    static readonly ProblemKind[] ByStatusDefaults =
    [
        MalformedRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, NotAcceptable, PayloadTooLarge,
        UnsupportedMediaType, RateLimited, Internal, NotReady,
    ];

    /// <summary>The kind reported for a bare status code (e.g. an unknown route's 404).</summary>
    public static ProblemKind ForStatus(int status) =>
        Array.Find(ByStatusDefaults, kind => kind.Status == status)
        ?? new ProblemKind("http-" + status.ToString(System.Globalization.CultureInfo.InvariantCulture), status, "The request failed.");

    public ProblemHttpResult ToResult(string? detail = null, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail, instance: null, Status, Title, Type, extensions);
}
