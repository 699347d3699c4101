using Glance.Api.Adapters;
using Glance.Api.Engine;
using Glance.Api.Options;
using Glance.Api.Problems;
using Glance.Api.Security;
using Glance.Api.Validation;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
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
        adapters.MapPut("/{name}", PutAsync)
            .WithName("PutAdapterSet")
            .WithSummary("Upload a set: multipart/form-data with a 'slow' and/or a 'fast' safetensors file (admin key).")
            .WithDescription("Each file is checked (safetensors structure, every key on a module of the loaded model with the right shape) " +
                "before anything is stored; a file that fails gets 422 naming the key and the problem. The set replaces one of the same " +
                "name and is served by every replica sharing the registry folder within seconds.")
            .Accepts<UploadAdapterSetForm>("multipart/form-data")
            .DisableAntiforgery()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        adapters.MapDelete("/{name}", DeleteAsync)
            .WithName("DeleteAdapterSet")
            .WithSummary("Remove a set from the registry (admin key); replicas detach it once its running requests finish.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    internal static ProblemHttpResult? WriteProblem(HttpContext http, ApiKeyValidator keys, AdapterRegistry registry)
    {
        if (keys.IsEnabled && (ApiKeyMiddleware.PresentedKey(http.Request) is not { } key || !keys.IsAdmin(key)))
            return ProblemKind.Forbidden.ToResult("Changing adapter sets needs a key listed in Glance:Auth:AdminKeys.");
        return registry.Root is null ? ProblemKind.AdapterRegistryMissing.ToResult("Set Glance:Adapters:Path to a folder (shared by all replicas) to add sets.") : null;
    }

    internal static ValidationProblem? InvalidName(string name)
    {
        if (AdapterSets.IsValidName(name) && name != AdapterSets.Default) return null;
        var errors = new FieldErrors();
        errors.Add("name", name == AdapterSets.Default
            ? $"'{AdapterSets.Default}' is the configured set (Glance:Model:Adapters); choose another name."
            : $"'{name}' is not a set name; it must match {AdapterSets.NamePattern}.");
        return GenerationProblems.Invalid(errors);
    }

    static async Task<Results<Created<AdapterSetResponse>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string name, HttpContext http, AdapterRegistry registry, AdapterUploads uploads, ApiKeyValidator keys, IOptions<AdapterOptions> options,
        EngineAdapterResidency residency)
    {
        if (WriteProblem(http, keys, registry) is { } refused) return refused;
        if (InvalidName(name) is { } invalid) return invalid;
        if (!http.Request.HasFormContentType || !(http.Request.ContentType ?? "").StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return ProblemKind.UnsupportedMediaType.ToResult("Upload the set as multipart/form-data with a 'slow' and/or a 'fast' file part.");
        long maxFile = options.Value.MaxFileBytes;
        IFormCollection form = await http.Request.ReadFormAsync(
            new FormOptions { MultipartBodyLengthLimit = 2 * maxFile + (1L << 20), ValueCountLimit = 16 }, http.RequestAborted).ConfigureAwait(false);
        var errors = new FieldErrors();
        foreach (IFormFile file in form.Files.Where(f => f.Name is not ("slow" or "fast")))
            errors.Add(file.Name, $"Unknown part '{file.Name}'; a set has a 'slow' and/or a 'fast' file.");
        if (form.Files.Count == 0) errors.Add("slow", "Send a 'slow' and/or a 'fast' safetensors file.");
        foreach (var group in form.Files.GroupBy(f => f.Name).Where(g => g.Count() > 1))
            errors.Add(group.Key, $"Part '{group.Key}' is sent {group.Count()} times; send it once.");
        if (!errors.IsEmpty) return GenerationProblems.Invalid(errors);
        if (form.Files.FirstOrDefault(f => f.Length > maxFile) is { } large)
            return ProblemKind.PayloadTooLarge.ToResult($"'{large.Name}' has {large.Length} bytes; at most {maxFile} (Glance:Adapters:MaxFileMiB) are accepted.");

        var streams = form.Files.ToDictionary(f => f.Name, f => f.OpenReadStream(), StringComparer.Ordinal);
        try
        {
            var outcome = await uploads.StoreAsync(name, streams, http.RequestAborted).ConfigureAwait(false);
            return outcome.Set is { } set
                ? TypedResults.Created($"/v1/adapters/{name}", ToResponse(set, residency))
                : outcome.Kind!.ToResult(outcome.Problem);
        }
        finally
        {
            foreach (var stream in streams.Values) await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(
        string name, HttpContext http, AdapterRegistry registry, AdapterUploads uploads, ApiKeyValidator keys)
    {
        if (WriteProblem(http, keys, registry) is { } refused) return refused;
        if (InvalidName(name) is { } invalid) return invalid;
        return await uploads.DeleteAsync(name, http.RequestAborted).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : ProblemKind.AdapterSetNotFound.ToResult($"Adapter set '{name}' is not in the registry folder.");
    }

    static Ok<AdapterSetListResponse> List(AdapterRegistry registry, EngineAdapterResidency residency) =>
        TypedResults.Ok(new AdapterSetListResponse([.. registry.Loaded.Select(set => ToResponse(set, residency))], registry.Failures));

    static Results<Ok<AdapterSetResponse>, ProblemHttpResult> Get(string name, AdapterRegistry registry, EngineAdapterResidency residency)
    {
        if (registry.Find(name) is { } set) return TypedResults.Ok(ToResponse(set, residency));
        string detail = registry.Failures.TryGetValue(name, out string? reason)
            ? $"Adapter set '{name}' is in the registry folder but could not be attached: {reason}"
            : $"Adapter set '{name}' does not exist; available: {string.Join(", ", registry.Loaded.Select(s => s.Name).DefaultIfEmpty("(none)"))}.";
        return ProblemKind.AdapterSetNotFound.ToResult(detail);
    }

    /// <summary>
    /// The set as clients see it; residency from the engine's live counters (the registry's copy of the sets is only
    /// refreshed when they change, residency at every step), else as the engine last reported it.
    /// </summary>
    static AdapterSetResponse ToResponse(AdapterSetInfo set, EngineAdapterResidency residency) => new(
        set.Name,
        [.. set.Phases.Select(p => new AdapterPhaseResponse(p.Phase, p.File, p.Modules, p.Ranks, p.Scales, p.Bytes))],
        set.Name == AdapterSets.Default ? "configuration" : "registry",
        residency.Counters is { } live
            ? set.Phases.All(p => live.IsResident(AdapterSets.AdapterName(set.Name, p.Phase)))
            : set.Residency?.Resident ?? true);
}
