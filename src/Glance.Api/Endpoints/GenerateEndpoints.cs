using System.Globalization;
using Glance.Api.Adapters;
using Glance.Api.Catalog;
using Glance.Api.OpenApi;
using Glance.Api.Scheduling;
using Glance.Api.Security;
using Glance.Api.Validation;
using Glance.Contracts;
using Glance.Contracts.Generation;
using Glance.Engine.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Glance.Api.Endpoints;

/// <summary>POST /generate: one image, returned as PNG or (Accept: application/json) as JSON with timings.</summary>
internal static class GenerateEndpoints
{
    public const string SeedHeader = "X-Glance-Seed";

    /// <summary>The adapter set the request used ("default" unless it named one).</summary>
    public const string AdaptersHeader = "X-Glance-Adapters";

    /// <summary>Present when a text encoder cut the prompt: "FIELD ENCODER KEPT/TOKENS" entries, comma-separated.</summary>
    public const string TruncationHeader = "X-Glance-Prompt-Truncated";

    public static IEndpointRouteBuilder MapGenerateEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/generate", GenerateAsync)
            .WithName("Generate")
            .WithTags("Images")
            .WithSummary("Generate one image and wait for it.")
            .WithDescription(
                "Returns image/png by default, or with 'Accept: application/json' a JSON body with the base64 PNG, seed and " +
                "per-stage timings. The Server-Timing header gives milliseconds for queue, encode, each phase (slow and fast, " +
                "or base), decode and png; X-Glance-Seed the seed used; X-Glance-Prompt-Truncated, when present, which text encoder cut the prompt.")
            .Accepts<GenerateRequest>("application/json")
            .Produces<GenerateResponse>(StatusCodes.Status200OK, "application/json")
            .WithMetadata(new PngAlternative())
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout)
            .RequireRateLimiting(RateLimiting.PerClientPolicy);
        return app;
    }

    static async Task<Results<FileContentHttpResult, Ok<GenerateResponse>, ValidationProblem, ProblemHttpResult>> GenerateAsync(
        [FromBody] GenerateRequest request, HttpContext http, ServerLifecycle lifecycle, ImageGeneration generation, AdapterRegistry adapters, ModelCatalog catalog)
    {
        if (GenerationProblems.EngineProblem(lifecycle, out EngineDescription? engine) is { } unavailable) return unavailable;
        if (catalog.Unknown(request.Model, engine!) is { } unknownModel) return unknownModel;
        GenerationSpec? spec = GenerateRequestValidation.Validate(request, engine!, out FieldErrors errors);
        if (spec is null) return GenerationProblems.Invalid(errors);
        if (GenerationProblems.MissingAdapterSet([spec], adapters) is { } missing) return missing;

        (IReadOnlyList<GeneratedImage>? images, ProblemHttpResult? problem) = await generation.RunAsync([spec], http).ConfigureAwait(false);
        if (problem is not null) return problem;
        GeneratedImage image = images![0];
        http.Response.Headers[ServerTiming.HeaderName] = ServerTiming.Format(image.Timings);
        http.Response.Headers[SeedHeader] = spec.Seed.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers[AdaptersHeader] = spec.AdapterSetName;
        if (image.Truncations.Count > 0) http.Response.Headers[TruncationHeader] = string.Join(", ", image.Truncations);
        if (WantsJson(http.Request))
            return TypedResults.Ok(new GenerateResponse(
                Convert.ToBase64String(image.Png), spec.Seed, spec.Width, spec.Height, ModeName(spec.Mode), image.Timings,
                image.Truncations.Count == 0 ? null : [.. image.Truncations.Select(t => new PromptTruncationInfo(t.Field, t.Encoder, t.Tokens, t.Kept))],
                spec.AdapterSetName));
        return TypedResults.File(image.Png, "image/png");
    }

    /// <summary>JSON only when the client prefers it to PNG; PNG is the default.</summary>
    static bool WantsJson(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double Quality(params string[] types) => accept
            .Where(value => types.Any(type => value.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase)))
            .Select(value => value.Quality ?? 1)
            .DefaultIfEmpty(-1)
            .Max();
        double json = Quality("application/json");
        return json > 0 && json > Quality("image/png", "image/*");
    }

    public static string ModeName(SamplingMode mode) => mode == SamplingMode.Base ? GenerationModes.Base : GenerationModes.Glance;
}
