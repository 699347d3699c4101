namespace Glance.Engine.Serving;

/// <summary>How a model uses the guidance scale, as <see cref="EngineDescription.GuidanceKind"/> reports it.</summary>
public static class GuidanceKinds
{
    /// <summary>Classifier-free guidance: a second, negative-prompt prediction per step, mixed by the scale.</summary>
    public const string TrueCfg = "true-cfg";

    /// <summary>The scale is an input of the transformer (FLUX.1-dev's guidance embedding): one prediction per step, no negative prompt.</summary>
    public const string Distilled = "distilled";

    /// <summary>The model takes no guidance (FLUX.1-schnell).</summary>
    public const string None = "none";
}
