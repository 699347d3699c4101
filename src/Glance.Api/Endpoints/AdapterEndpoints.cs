using Glance.Api.Adapters;
using Glance.Api.Problems;
using Glance.Contracts.Adapters;
using Glance.Engine.Serving;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Glance.Api.Endpoints;

/// <summary>/v1/adapters: the adapter sets requests can choose, as the engine has attached them.</summary>
internal static class AdapterEndpoints
{
    public static IEndpointRouteBuilder MapAdapterEndpoints(this IEndpointRouteBuilder app)
    {
        var adapters = app.MapGroup("/v1/adapters").WithTags("Adapters");
        adapters.MapGet("/", List)
            .WithName("ListAdapterSets")
            .WithSummary("The adapter sets requests can name in 'adapters', with their phases, ranks and scales.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        adapters.MapGet("/{name}", Get)
            .WithName("GetAdapterSet")
            .WithSummary("One adapter set.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    static Ok<AdapterSetListResponse> List(AdapterRegistry registry) =>
        TypedResults.Ok(new AdapterSetListResponse([.. registry.Loaded.Select(ToResponse)], registry.Failures));

    static Results<Ok<AdapterSetResponse>, ProblemHttpResult> Get(string name, AdapterRegistry registry)
    {
        if (registry.Find(name) is { } set) return TypedResults.Ok(ToResponse(set));
        string detail = registry.Failures.TryGetValue(name, out string? reason)
            ? $"Adapter set '{name}' is in the registry folder but could not be attached: {reason}"
            : $"Adapter set '{name}' does not exist; available: {string.Join(", ", registry.Loaded.Select(s => s.Name).DefaultIfEmpty("(none)"))}.";
        return ProblemKind.AdapterSetNotFound.ToResult(detail);
    }

    static AdapterSetResponse ToResponse(AdapterSetInfo set) => new(
        set.Name,
        [.. set.Phases.Select(p => new AdapterPhaseResponse(p.Phase, p.File, p.Modules, p.Ranks, p.Scales, p.Bytes))],
        set.Name == AdapterSets.Default ? "configuration" : "registry");
}
