using System.Globalization;
using Glance.Contracts.OpenAi;
using Glance.Engine.Serving;

namespace Glance.Api.Validation;

/// <summary>
/// Checks an OpenAI-style request and turns it into one engine spec per image (seeds seed, seed+1, ...). Its "model" is
/// checked before, by the model catalog (an unknown model is a 404, not a field error).
/// </summary>
internal static class ImageGenerationRequestValidation
{
    public const string Base64Json = "b64_json";
    public const string Url = "url";

    public static IReadOnlyList<GenerationSpec>? Validate(
        ImageGenerationRequest request, EngineDescription engine, int maxImages, out FieldErrors errors)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(engine);
        errors = new FieldErrors();
        string? prompt = GenerationRules.Prompt(errors, "prompt", request.Prompt, engine, required: true);
        string? negative = GenerationRules.Prompt(errors, "negative_prompt", request.NegativePrompt, engine, required: false);
        if (request.ResponseFormat is not null && request.ResponseFormat != Base64Json && request.ResponseFormat != Url)
            errors.Add("response_format", $"'response_format' is '{request.ResponseFormat}'; it must be '{Base64Json}'.");
        int count = request.N ?? 1;
        if (count < 1 || count > maxImages)
        {
            errors.Add("n", $"'n' is {count}; it must be between 1 and {maxImages}.");
            count = 1;
        }
        (int? width, int? height) = ParseSize(errors, request.Size);
        width = GenerationRules.Dimension(errors, "size", width, engine.DefaultWidth, engine);
        height = GenerationRules.Dimension(errors, "size", height, engine.DefaultHeight, engine);
        SamplingMode mode = GenerationRules.Mode(errors, "mode", request.Mode);
        int? steps = GenerationRules.Steps(errors, "steps", null, mode, engine);
        double? guidance = GenerationRules.Guidance(errors, "guidance", request.Guidance, engine);
        long seed = GenerationRules.Seed(errors, "seed", request.Seed, count);
        string? adapters = GenerationRules.AdapterSet(errors, "adapters", request.Adapters);
        if (!errors.IsEmpty) return null;
        return [.. Enumerable.Range(0, count).Select(i =>
            new GenerationSpec(prompt!, negative, width.Value, height.Value, seed + i, mode, steps, guidance, adapters))];
    }

    static (int? Width, int? Height) ParseSize(FieldErrors errors, string? size)
    {
        if (size is null) return (null, null);
        string[] parts = size.Split('x');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height))
            return (width, height);
        errors.Add("size", $"'size' is '{size}'; it must be WIDTHxHEIGHT, e.g. \"1024x1024\".");
        return (null, null);
    }
}
