using Glance.Api.Catalog;
using Glance.Api.Scheduling;
using Glance.Contracts.OpenAi;
using Glance.Engine.Serving;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Glance.Api.Endpoints;

/// <summary>GET /v1/models and /v1/models/{id}: the loaded model in the OpenAI list shape, with what a client needs to use it.</summary>
internal static class ModelEndpoints
{
    public static IServiceCollection AddGlanceModelCatalog(this IServiceCollection services) =>
        services.AddSingleton<ModelCatalog>();

    public static IEndpointRouteBuilder MapModelEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder models = app.MapGroup("/v1/models")
            .WithTags("OpenAI compatible")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        models.MapGet("/", List)
            .WithName("ListModels")
            .WithSummary("The models this server serves (the loaded one).")
            .WithDescription(
                "OpenAI's list shape ({\"object\":\"list\",\"data\":[...]}); each model also gives its family, licence, sizes, " +
                "steps, guidance kind and range, negative prompt use, modes, adapters, prompt limits and example prompts.");
        models.MapGet("/{id}", Get)
            .WithName("GetModel")
            .WithSummary("One model by id; 404 naming the available id when there is no such model.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    static Results<Ok<ModelList>, ProblemHttpResult> List(ServerLifecycle lifecycle, ModelCatalog catalog)
    {
        if (GenerationProblems.EngineProblem(lifecycle, out EngineDescription? engine) is { } unavailable) return unavailable;
        return TypedResults.Ok(new ModelList("list", [catalog.Card(engine!)]));
    }

    static Results<Ok<ModelCard>, ProblemHttpResult> Get(string id, ServerLifecycle lifecycle, ModelCatalog catalog)
    {
        if (GenerationProblems.EngineProblem(lifecycle, out EngineDescription? engine) is { } unavailable) return unavailable;
        if (catalog.Unknown(id, engine!) is { } missing) return missing;
        return TypedResults.Ok(catalog.Card(engine!));
    }
}
