using System.Text.Json.Serialization;

namespace Glance.Contracts.OpenAi;

/// <summary>GET /v1/models: the OpenAI list shape; this server lists the one model it has loaded.</summary>
/// <param name="Kind">"object": always "list".</param>
public sealed record ModelList(
    [property: JsonPropertyName("object")] string Kind,
    [property: JsonPropertyName("data")] IReadOnlyList<ModelCard> Data);

/// <summary>
/// One model in the OpenAI shape (id, object "model", created, owned_by), extended with what a client needs to build a
/// request the model accepts and to show it well.
/// </summary>
/// <param name="Id">The name requests give as "model".</param>
/// <param name="Kind">"object": always "model".</param>
/// <param name="Created">Unix time in seconds at which this server loaded the model.</param>
/// <param name="OwnedBy">Who publishes the weights.</param>
/// <param name="Family">"glance-mini", "flux.1-dev", "flux.1-schnell" or "qwen-image".</param>
/// <param name="License">The licence name of the weights, when known.</param>
/// <param name="Modes">The sampling modes a request may name, the default first.</param>
/// <param name="Adapters">The adapters attached to the model ("slow" and "fast" are the Glance plan's).</param>
/// <param name="GlanceNote">How glance mode runs when an adapter of its plan is missing; null when both are attached.</param>
/// <param name="ExamplePrompts">Prompts the model handles well; the first is a good default.</param>
public sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Kind,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy,
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("license")] string? License,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("dtype")] string DType,
    [property: JsonPropertyName("sizes")] ModelSizes Sizes,
    [property: JsonPropertyName("steps")] ModelSteps Steps,
    [property: JsonPropertyName("guidance")] ModelGuidance Guidance,
    [property: JsonPropertyName("negative_prompt")] ModelNegativePrompt NegativePrompt,
    [property: JsonPropertyName("modes")] IReadOnlyList<string> Modes,
    [property: JsonPropertyName("adapters")] IReadOnlyList<ModelAdapter> Adapters,
    [property: JsonPropertyName("glance_note")] string? GlanceNote,
    [property: JsonPropertyName("prompt")] ModelPromptLimits Prompt,
    [property: JsonPropertyName("example_prompts")] IReadOnlyList<string> ExamplePrompts);

/// <summary>Image sizes: width and height each a multiple of <paramref name="Multiple"/> within [Min, Max].</summary>
public sealed record ModelSizes(
    [property: JsonPropertyName("min")] int Min,
    [property: JsonPropertyName("max")] int Max,
    [property: JsonPropertyName("multiple")] int Multiple,
    [property: JsonPropertyName("default_width")] int DefaultWidth,
    [property: JsonPropertyName("default_height")] int DefaultHeight);

/// <summary>Steps: glance mode's plan is fixed; base mode takes 1 to <paramref name="BaseMax"/>.</summary>
public sealed record ModelSteps(
    [property: JsonPropertyName("glance")] int Glance,
    [property: JsonPropertyName("base_default")] int BaseDefault,
    [property: JsonPropertyName("base_max")] int BaseMax);

/// <summary>How the model takes guidance and the scales accepted.</summary>
/// <param name="Kind">"true-cfg" (a negative-prompt prediction per step, mixed by the scale), "distilled" (the scale is
/// a transformer input) or "none" (the model takes no guidance; a scale sent is ignored).</param>
public sealed record ModelGuidance(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("default")] double Default,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max);

/// <summary>Whether a negative prompt has an effect (true CFG only) and what is used when a request gives none.</summary>
public sealed record ModelNegativePrompt(
    [property: JsonPropertyName("supported")] bool Supported,
    [property: JsonPropertyName("default")] string? Default);

/// <summary>One attached adapter and what its file holds.</summary>
public sealed record ModelAdapter(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("note")] string? Note);

/// <summary>Prompt limits: characters accepted, and the tokens each text encoder reads (a longer prompt is cut and reported).</summary>
public sealed record ModelPromptLimits(
    [property: JsonPropertyName("max_characters")] int MaxCharacters,
    [property: JsonPropertyName("token_limits")] IReadOnlyList<ModelTokenLimit> TokenLimits);

/// <summary>A text encoder and the prompt tokens it reads.</summary>
public sealed record ModelTokenLimit(
    [property: JsonPropertyName("encoder")] string Encoder,
    [property: JsonPropertyName("tokens")] int Tokens);
