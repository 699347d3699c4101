using System.Globalization;
using Glance.Api.Adapters;
using Glance.Api.Catalog;
using Glance.Api.Options;
using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Api.Security;
using Glance.Api.Validation;
using Glance.Contracts.OpenAi;
using Glance.Engine.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Glance.Api.Endpoints;

/// <summary>POST /v1/images/generations: the OpenAI Images API, b64_json responses only.</summary>
internal static class OpenAiImagesEndpoints
{
    public static IEndpointRouteBuilder MapOpenAiImagesEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/images/generations", GenerateAsync)
            .WithName("CreateImage")
            .WithTags("OpenAI compatible")
            .WithSummary("Generate n images (OpenAI Images API).")
            .WithDescription(
                "Accepts prompt, model, n, size (\"WxH\") and response_format (b64_json only; url is refused), plus seed, " +
                "negative_prompt, mode and guidance. Image i uses seed + i.")
            .Accepts<ImageGenerationRequest>("application/json")
            .Produces<ImageGenerationResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout)
            .RequireRateLimiting(RateLimiting.PerClientPolicy);
        return app;
    }

    static async Task<Results<Ok<ImageGenerationResponse>, ValidationProblem, ProblemHttpResult>> GenerateAsync(
        [FromBody] ImageGenerationRequest request,
        HttpContext http,
        ServerLifecycle lifecycle,
        ImageGeneration generation,
        ModelCatalog catalog,
        IOptions<RequestOptions> limits,
        AdapterRegistry adapters,
        TimeProvider time)
    {
        if (request.ResponseFormat == ImageGenerationRequestValidation.Url)
            return ProblemKind.UnsupportedResponseFormat.ToResult(
                "This server does not host images; ask for response_format \"b64_json\" to receive them in the response.");
        if (GenerationProblems.EngineProblem(lifecycle, out EngineDescription? engine) is { } unavailable) return unavailable;
        if (catalog.Unknown(request.Model, engine!) is { } unknownModel) return unknownModel;
        IReadOnlyList<GenerationSpec>? specs = ImageGenerationRequestValidation.Validate(
            request, engine!, limits.Value.MaxImagesPerRequest, out FieldErrors errors);
        if (specs is null) return GenerationProblems.Invalid(errors);
        if (GenerationProblems.MissingAdapterSet(specs, adapters) is { } missing) return missing;

        (IReadOnlyList<GeneratedImage>? images, ProblemHttpResult? problem) = await generation.RunAsync(specs, http).ConfigureAwait(false);
        if (problem is not null) return problem;
        http.Response.Headers[GenerateEndpoints.SeedHeader] = specs[0].Seed.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers[GenerateEndpoints.AdaptersHeader] = specs[0].AdapterSetName;
        // Every image shares the prompt, so the first one's cut stands for all.
        if (images![0].Truncations.Count > 0) http.Response.Headers[GenerateEndpoints.TruncationHeader] = string.Join(", ", images[0].Truncations);
        return TypedResults.Ok(new ImageGenerationResponse(
            time.GetUtcNow().ToUnixTimeSeconds(),
            [.. images!.Select(image => new ImageData(Convert.ToBase64String(image.Png), image.Spec.Seed))]));
    }
}
