namespace Glance.Engine.Serving;

public enum SamplingMode
{
    /// <summary>Phase-aware plan: Slow-adapter steps over the early schedule, Fast-adapter steps over the rest.</summary>
    Glance,
    /// <summary>The base model alone over an evenly spaced N-step schedule.</summary>
    Base,
}

/// <summary>One image to generate, already validated against <see cref="EngineDescription"/>.</summary>
/// <param name="Steps">Number of steps in base mode; ignored in Glance mode (its plan is fixed).</param>
/// <param name="Guidance">Guidance scale; null takes the model's default.</param>
/// <param name="AdapterSet">The adapter set of Glance mode's phases; null: the default set.</param>
public sealed record GenerationSpec(
    string Prompt,
    string? NegativePrompt,
    int Width,
    int Height,
    long Seed,
    SamplingMode Mode = SamplingMode.Glance,
    int? Steps = null,
    double? Guidance = null,
    string? AdapterSet = null)
{
    /// <summary>The adapter set the request uses: <see cref="AdapterSets.Default"/> unless it names one.</summary>
    public string AdapterSetName => AdapterSet ?? AdapterSets.Default;
}
