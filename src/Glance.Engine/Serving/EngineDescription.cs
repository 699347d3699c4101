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

    // What a client needs to build a request (the model catalog, /v1/models); the defaults describe a test engine.

    /// <summary>How the guidance scale is used: one of <see cref="GuidanceKinds"/>.</summary>
    public string GuidanceKind { get; init; } = GuidanceKinds.TrueCfg;

    /// <summary>The negative prompt true CFG uses when a request gives none; only meaningful for <see cref="GuidanceKinds.TrueCfg"/>.</summary>
    public string DefaultNegativePrompt { get; init; } = "";

    /// <summary>Steps of the Glance plan (fixed; Slow and Fast phases together).</summary>
    public int GlanceSteps { get; init; } = 10;

    /// <summary>The text encoders and the prompt tokens each reads.</summary>
    public IReadOnlyList<PromptTokenLimit> PromptTokenLimits { get; init; } = [];

    /// <summary>Prompts the model handles well, the first one the natural default.</summary>
    public IReadOnlyList<string> ExamplePrompts { get; init; } = ["a small test image"];

    /// <summary>The licence name of the model's weights, when known.</summary>
    public string? Licence { get; init; }
}
