using System.Text.Json.Serialization;

namespace Glance.Contracts.OpenAi;

/// <summary>The OpenAI Images API request, plus Glance's own optional fields.</summary>
/// <param name="Prompt">What the image shows.</param>
/// <param name="Model">When given, must name the loaded model.</param>
/// <param name="N">Number of images; image i uses seed + i.</param>
/// <param name="Size">"WIDTHxHEIGHT", e.g. "1024x1024".</param>
/// <param name="ResponseFormat">"b64_json" only; "url" is not offered.</param>
/// <param name="Adapters">Glance's extension: the adapter set of Glance mode's phases; "default" when absent.</param>
public sealed record ImageGenerationRequest(
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("model")] string? Model = null,
    [property: JsonPropertyName("n")] int? N = null,
    [property: JsonPropertyName("size")] string? Size = null,
    [property: JsonPropertyName("response_format")] string? ResponseFormat = null,
    [property: JsonPropertyName("user")] string? User = null,
    [property: JsonPropertyName("seed")] long? Seed = null,
    [property: JsonPropertyName("negative_prompt")] string? NegativePrompt = null,
    [property: JsonPropertyName("mode")] string? Mode = null,
    [property: JsonPropertyName("guidance")] double? Guidance = null,
    [property: JsonPropertyName("adapters")] string? Adapters = null);
