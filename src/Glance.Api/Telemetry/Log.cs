using Glance.Api.Scheduling;

namespace Glance.Api.Telemetry;

/// <summary>The server's log events, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Loading the engine")]
    public static partial void EngineLoading(ILogger logger);

    [LoggerMessage(2, LogLevel.Information, "Engine {Model} loaded on {Device} ({DType}); warming up")]
    public static partial void EngineLoaded(ILogger logger, string model, string device, string dType);

    [LoggerMessage(20, LogLevel.Information, "{Outcome}")]
    public static partial void MemoryChecked(ILogger logger, string outcome);

    [LoggerMessage(16, LogLevel.Information, "Adapter {Adapter} attached: {Note}")]
    public static partial void AdapterAttached(ILogger logger, string adapter, string note);

    [LoggerMessage(3, LogLevel.Information, "Engine warmed up in {ElapsedMs:F0} ms; ready")]
    public static partial void EngineReady(ILogger logger, double elapsedMs);

    [LoggerMessage(4, LogLevel.Critical, "The engine could not be loaded; the server will refuse image requests")]
    public static partial void EngineLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(184, LogLevel.Warning,
        "The engine ran out of memory during {Operation} with {Count} requests at {Width}x{Height}; running them again in halves. "
        + "Batches at that size are capped at {Cap} from now on; set Glance:Batching:MaxBatchSize to at most that so that no request waits for a failed attempt ({Error})")]
    public static partial void EngineOutOfMemory(ILogger logger, string operation, int count, int width, int height, int cap, string error);

    [LoggerMessage(5, LogLevel.Error, "Engine {Operation} failed for {Count} requests ({RequestIds})")]
    public static partial void EngineCallFailed(ILogger logger, string operation, int count, string requestIds, Exception exception);

    [LoggerMessage(6, LogLevel.Information, "Request {RequestId} ended: {Outcome} after {TotalMs:F1} ms")]
    public static partial void RequestEnded(ILogger logger, string requestId, WorkOutcome outcome, double totalMs);

    [LoggerMessage(7, LogLevel.Information, "Draining: {Running} running and {Waiting} waiting requests get {GraceSeconds} s to finish")]
    public static partial void Draining(ILogger logger, int running, int waiting, double graceSeconds);

    [LoggerMessage(8, LogLevel.Warning, "Grace period over; cancelling the requests still in flight")]
    public static partial void GraceExpired(ILogger logger);

    [LoggerMessage(9, LogLevel.Error, "The engine worker stopped on an unexpected error")]
    public static partial void WorkerCrashed(ILogger logger, Exception exception);

    [LoggerMessage(10, LogLevel.Error, "PNG encoding failed for request {RequestId}")]
    public static partial void PngFailed(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "Rejected a request with an invalid API key from {RemoteAddress}")]
    public static partial void InvalidApiKey(ILogger logger, string? remoteAddress);

    [LoggerMessage(12, LogLevel.Error, "Updating job {JobId} failed")]
    public static partial void JobUpdateFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(13, LogLevel.Error, "Unhandled error while serving {Path}")]
    public static partial void UnhandledError(ILogger logger, string path, Exception exception);

    [LoggerMessage(15, LogLevel.Warning, "Request {RequestId}: the prompt is longer than the text encoders keep ({Truncations}: field encoder kept/tokens); the rest was cut")]
    public static partial void PromptTruncated(ILogger logger, string requestId, string truncations);

    [LoggerMessage(14, LogLevel.Warning, "Could not subscribe to cancel requests from other replicas; retrying in {RetrySeconds} s")]
    public static partial void CancelSubscriptionFailed(ILogger logger, double retrySeconds, Exception exception);

    [LoggerMessage(17, LogLevel.Information, "Adapter set {Set} attached ({Fingerprint})")]
    public static partial void AdapterSetAttached(ILogger logger, string set, string fingerprint);

    [LoggerMessage(18, LogLevel.Information, "Adapter set {Set} detached (gone from the registry folder)")]
    public static partial void AdapterSetDetached(ILogger logger, string set);

    [LoggerMessage(19, LogLevel.Warning, "Adapter set {Set} not attached: {Reason}")]
    public static partial void AdapterSetRejected(ILogger logger, string set, string reason);
}
