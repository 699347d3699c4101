namespace Glance.Engine.Serving;

/// <summary>What a loaded engine accepts, used to validate requests before they reach it.</summary>
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
    IReadOnlyList<string> Adapters);
