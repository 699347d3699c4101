using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Glance.Api.Endpoints;

/// <summary>GET /healthz (the process is alive) and GET /readyz (the engine is loaded and warmed up).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new ServiceStatus("alive")))
            .WithName("Liveness")
            .WithTags("Health")
            .WithSummary("200 while the process runs.");
        app.MapGet("/readyz", Ready)
            .WithName("Readiness")
            .WithTags("Health")
            .WithSummary("200 once the engine is loaded and warmed up; 503 before that, while draining, or if loading failed.")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    static Results<Ok<ServiceStatus>, ProblemHttpResult> Ready(ServerLifecycle lifecycle) => lifecycle.State switch
    {
        ServerState.Ready => TypedResults.Ok(new ServiceStatus("ready", lifecycle.Description?.ModelName, lifecycle.Description?.Device, lifecycle.Description?.GlanceNote)),
        ServerState.Loading => ProblemKind.NotReady.ToResult("The engine is loading."),
        ServerState.WarmingUp => ProblemKind.NotReady.ToResult("The engine is warming up."),
        ServerState.Faulted => ProblemKind.EngineUnavailable.ToResult(lifecycle.FaultReason),
        _ => ProblemKind.ShuttingDown.ToResult("The server is draining and accepts no new requests."),
    };
}
