namespace Glance.Contracts.Generation;

/// <summary>One image to generate. Omitted fields take the engine's defaults; the seed is drawn at random when omitted.</summary>
/// <param name="Prompt">What the image shows.</param>
/// <param name="NegativePrompt">What the image should avoid.</param>
/// <param name="Width">Pixels; a multiple of the engine's size multiple within its bounds.</param>
/// <param name="Height">Pixels; a multiple of the engine's size multiple within its bounds.</param>
/// <param name="Seed">Initial noise seed; the same seed and request give the same image.</param>
/// <param name="Mode">"glance" (phase-aware Slow/Fast plan, the default) or "base" (base model over Steps steps).</param>
/// <param name="Steps">Number of steps; base mode only.</param>
/// <param name="Guidance">Guidance scale.</param>
/// <param name="Adapters">The adapter set of Glance mode's Slow and Fast phases (GET /v1/adapters lists them); "default" when absent.</param>
/// <param name="Model">When given, must name the loaded model (GET /v1/models); an unknown name is a 404.</param>
public sealed record GenerateRequest(
    string? Prompt,
    string? NegativePrompt = null,
    int? Width = null,
    int? Height = null,
    long? Seed = null,
    string? Mode = null,
    int? Steps = null,
    double? Guidance = null,
    string? Adapters = null,
    string? Model = null);
