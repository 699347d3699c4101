using System.Text.Json.Serialization;

namespace Glance.Contracts.OpenAi;

/// <summary>The OpenAI Images API response.</summary>
/// <param name="Created">Unix time in seconds.</param>
public sealed record ImageGenerationResponse(
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("data")] IReadOnlyList<ImageData> Data);

/// <summary>One generated image.</summary>
public sealed record ImageData(
    [property: JsonPropertyName("b64_json")] string B64Json,
    [property: JsonPropertyName("seed")] long Seed);
