using Microsoft.AspNetCore.Http.HttpResults;
using System.Globalization;
using Glance.Api.Adapters;
using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Api.Validation;
using Glance.Engine.Serving;

namespace Glance.Api.Endpoints;

/// <summary>The problems an image request can end in, shared by every endpoint that generates.</summary>
internal static class GenerationProblems
{
    /// <summary>The loaded engine's description, or why there is none to validate against.</summary>
    public static ProblemHttpResult? EngineProblem(ServerLifecycle lifecycle, out EngineDescription? engine)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        engine = lifecycle.Description;
        return lifecycle.State switch
        {
            ServerState.Faulted => ProblemKind.EngineUnavailable.ToResult(lifecycle.FaultReason),
            ServerState.Draining or ServerState.Stopped => ProblemKind.ShuttingDown.ToResult("The server is shutting down and accepts no new requests."),
            _ when engine is null => ProblemKind.NotReady.ToResult("The engine is loading; retry shortly."),
            _ => null,
        };
    }

    /// <summary>A 404 naming the first adapter set the specs ask for that the engine has not attached, with the sets it has.</summary>
    public static ProblemHttpResult? MissingAdapterSet(IEnumerable<GenerationSpec> specs, AdapterRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(registry);
        string? missing = specs.Select(spec => spec.AdapterSet).FirstOrDefault(set => set is not null && registry.Find(set) is null);
        if (missing is null) return null;
        string available = string.Join(", ", registry.Loaded.Select(set => set.Name).DefaultIfEmpty("(none)"));
        string why = registry.Failures.TryGetValue(missing, out string? reason) ? $" It is in the registry folder but could not be attached: {reason}" : "";
        return ProblemKind.AdapterSetNotFound.ToResult($"Adapter set '{missing}' is not available; available: {available}.{why}",
            new Dictionary<string, object?> { ["adapters"] = missing });
    }

    public static ValidationProblem Invalid(FieldErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ProblemKind kind = ProblemKind.Validation;
        return TypedResults.ValidationProblem(errors.ToDictionary(), errors.Summary(), title: kind.Title, type: kind.Type);
    }

    /// <summary>Why a submission was refused; a full queue also sets Retry-After.</summary>
    public static ProblemHttpResult Refused(SubmitStatus status, HttpResponse response, int retryAfterSeconds)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (status is SubmitStatus.QueueFull or SubmitStatus.NotReady)
            response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return status switch
        {
            SubmitStatus.QueueFull => ProblemKind.QueueFull.ToResult(
                $"Too many requests are waiting for the engine; retry after {retryAfterSeconds} s."),
            SubmitStatus.NotReady => ProblemKind.NotReady.ToResult("The engine is loading; retry shortly."),
            SubmitStatus.Unavailable => ProblemKind.EngineUnavailable.ToResult(),
            _ => ProblemKind.ShuttingDown.ToResult("The server is shutting down and accepts no new requests."),
        };
    }

    public static ProblemHttpResult Ended(WorkResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        ProblemKind kind = result.Outcome switch
        {
            WorkOutcome.TimedOut => ProblemKind.Timeout,
            WorkOutcome.Cancelled => ProblemKind.Cancelled,
            WorkOutcome.ShutDown => ProblemKind.ShuttingDown,
            WorkOutcome.EngineUnavailable => ProblemKind.EngineUnavailable,
            _ => ProblemKind.EngineFailure,
        };
        return kind.ToResult(result.Error);
    }
}
