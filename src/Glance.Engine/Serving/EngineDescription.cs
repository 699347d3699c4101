namespace Glance.Engine.Serving;

/// <summary>
/// What a loaded engine accepts, used to validate requests before they reach it. <see cref="GlanceNote"/> says how
/// Glance mode runs when an adapter of its plan is missing (it then runs that phase on the base weights);
/// <see cref="AdapterNotes"/> what each attached adapter file holds and the scale applied to it.
/// </summary>
public sealed record EngineDescription(
    string ModelName,
    string Device,
    string DType,
    int DefaultWidth,
    int DefaultHeight,
    int MinSize,
    int MaxSize,
    int SizeMultiple,
    double DefaultGuidance,
    double MaxGuidance,
    int DefaultBaseSteps,
    int MaxBaseSteps,
    int MaxPromptLength,
    IReadOnlyList<string> Adapters,
    string? GlanceNote = null,
    IReadOnlyDictionary<string, string>? AdapterNotes = null)
{
    /// <summary>The model family ("glance-mini", "flux.1-dev", "flux.1-schnell", "qwen-image"); "test" for fakes.</summary>
    public string Family { get; init; } = "test";
}
