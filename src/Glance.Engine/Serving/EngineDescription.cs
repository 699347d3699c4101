namespace Glance.Engine.Serving;

/// <summary>
/// What a loaded engine accepts, used to validate requests before they reach it. <see cref="GlanceNote"/> says how
/// Glance mode runs when an adapter of its plan is missing (it then runs that phase on the base weights).
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
    string? GlanceNote = null);
