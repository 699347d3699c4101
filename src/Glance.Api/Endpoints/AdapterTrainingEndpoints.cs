using System.Globalization;
using Glance.Api.Adapters;
using Glance.Api.Options;
using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Api.Security;
using Glance.Api.Training;
using Glance.Api.Validation;
using Glance.Contracts.Jobs;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;
using Glance.Engine.Training;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Glance.Api.Endpoints;

/// <summary>POST /v1/adapters/{name}/train: an adapter set trained from one image and its caption, as a job.</summary>
internal static class AdapterTrainingEndpoints
{
    public static IEndpointRouteBuilder MapAdapterTrainingEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/adapters/{name}/train", TrainAsync)
            .WithTags("Adapters")
            .WithName("TrainAdapterSet")
            .WithSummary("Train a set from one image and its caption (admin key); returns a job (202, Location: /jobs/{id}).")
            .WithDescription("multipart/form-data: 'image' (PNG or JPEG), 'caption', and optionally 'phases' (slow, fast or both, " +
                "comma-separated; default both), 'steps' (per phase), 'rank', 'learningRate', 'targets' (attention or broad) and 'seed'. " +
                "Unset values take the loaded model's Glance recipe. The image is scaled to the model's default area at most, each side a " +
                "multiple of its size step. The job reports each step's loss and the time left on GET /jobs/{id} and /jobs/{id}/events; " +
                "DELETE /jobs/{id} cancels it. Training shares the engine with generation (Glance:Training:MaxShare of the step slots " +
                "while requests wait). On success the set is stored in the registry and served by every replica.")
            .Accepts<TrainAdapterForm>("multipart/form-data")
            .DisableAntiforgery()
            .RequireRateLimiting(RateLimiting.PerClientPolicy)
            .Produces<JobResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    static async Task<Results<Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> TrainAsync(
        string name, HttpContext http, AdapterRegistry registry, ApiKeyValidator keys, ServerLifecycle lifecycle,
        TrainingJobRunner runner, IOptions<TrainingOptions> options, IOptions<AdapterOptions> adapterOptions)
    {
        TrainingOptions limits = options.Value;
        if (AdapterEndpoints.WriteProblem(http, keys, registry) is { } refused) return refused;
        if (!limits.Enabled) return ProblemKind.TrainingDisabled.ToResult("Set Glance:Training:Enabled to true to train adapter sets through the API.");
        if (AdapterEndpoints.InvalidName(name) is { } invalid) return invalid;
        if (GenerationProblems.EngineProblem(lifecycle, out EngineDescription? engine) is { } unavailable) return unavailable;
        if (!http.Request.HasFormContentType || !(http.Request.ContentType ?? "").StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return ProblemKind.UnsupportedMediaType.ToResult("Send multipart/form-data with an 'image' file part and a 'caption' field.");
        IFormCollection form = await http.Request.ReadFormAsync(
            new FormOptions { MultipartBodyLengthLimit = limits.MaxImageBytes + (1L << 20), ValueCountLimit = 32 }, http.RequestAborted).ConfigureAwait(false);

        var errors = new FieldErrors();
        IFormFile? image = form.Files.GetFile("image");
        if (image is null) errors.Add("image", "Send the training image as a file part named 'image' (PNG or JPEG).");
        foreach (IFormFile extra in form.Files.Where(f => f.Name != "image"))
            errors.Add(extra.Name, $"Unknown file part '{extra.Name}'; only 'image' is read.");
        string caption = form["caption"].ToString();
        if (string.IsNullOrWhiteSpace(caption)) errors.Add("caption", "Give the image's caption: the text it will be generated from.");
        else if (caption.Length > engine!.MaxPromptLength) errors.Add("caption", $"The caption has {caption.Length} characters; at most {engine.MaxPromptLength} are accepted.");
        string[] phases = [.. form["phases"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
        if (phases.Length == 0) phases = [PlanBuilder.SlowPhase, PlanBuilder.FastPhase];
        if (phases.Any(p => p is not (PlanBuilder.SlowPhase or PlanBuilder.FastPhase)) || phases.Distinct(StringComparer.Ordinal).Count() != phases.Length)
            errors.Add("phases", $"'{string.Join(",", phases)}' is not a list of phases; expected slow, fast or slow,fast.");
        int? steps = Integer(form, "steps", 1, limits.MaxSteps, "Glance:Training:MaxSteps", errors);
        int? rank = Integer(form, "rank", 1, limits.MaxRank, "Glance:Training:MaxRank", errors);
        double? rate = Rate(form, errors);
        long seed = Integer(form, "seed", 0, int.MaxValue, null, errors) ?? 1;
        string? targets = form["targets"].ToString() is { Length: > 0 } t ? t : null;
        if (targets is not null && !LoraTargetSets.Names.Contains(targets))
            errors.Add("targets", $"'{targets}' is not a target set; expected one of {string.Join(", ", LoraTargetSets.Names)}.");
        if (!errors.IsEmpty) return GenerationProblems.Invalid(errors);
        if (image!.Length > limits.MaxImageBytes)
            return ProblemKind.PayloadTooLarge.ToResult($"The image has {image.Length} bytes; at most {limits.MaxImageBytes} (Glance:Training:MaxImageMiB) are accepted.");

        TrainingImage.Outcome decoded;
        var content = new MemoryStream();
        await using (content.ConfigureAwait(false))
        {
            await image.CopyToAsync(content, http.RequestAborted).ConfigureAwait(false);
            content.Position = 0;
            decoded = TrainingImage.Read(content, limits.MaxImagePixels, engine!);
        }
        if (decoded.Image is null)
        {
            return decoded.Status == StatusCodes.Status415UnsupportedMediaType
                ? ProblemKind.UnsupportedMediaType.ToResult(decoded.Problem)
                : ProblemKind.InvalidImage.ToResult(decoded.Problem);
        }

        var spec = new AdapterTrainingSpec(name, decoded.Image, caption, phases, steps, rank, rate, targets, seed);
        var settings = TrainingRecipe.ForFamily(engine!.Family).Settings(spec);
        var (admission, job) = await runner.SubmitAsync(spec, settings, http.RequestAborted).ConfigureAwait(false);
        return admission switch
        {
            TrainingQueue.Admission.Accepted => TypedResults.Accepted($"/jobs/{job!.Id}", job),
            TrainingQueue.Admission.SetBusy => ProblemKind.AdapterBusy.ToResult($"A training job for set '{name}' is already queued or running; wait for it or cancel it."),
            TrainingQueue.Admission.Full => ProblemKind.QueueFull.ToResult($"{limits.MaxQueued} training jobs are waiting (Glance:Training:MaxQueued); try again later."),
            _ => ProblemKind.ShuttingDown.ToResult("The server is shutting down."),
        };
    }

    static int? Integer(IFormCollection form, string field, int min, int max, string? setting, FieldErrors errors)
    {
        string text = form[field].ToString();
        if (text.Length == 0) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max) return value;
        errors.Add(field, $"'{text}' is not a whole number from {min} to {max}{(setting is null ? "" : $" ({setting})")}.");
        return null;
    }

    static double? Rate(IFormCollection form, FieldErrors errors)
    {
        string text = form["learningRate"].ToString();
        if (text.Length == 0) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0 && value <= 1) return value;
        errors.Add("learningRate", $"'{text}' is not a learning rate; expected a number in (0, 1], e.g. 5e-4.");
        return null;
    }
}
