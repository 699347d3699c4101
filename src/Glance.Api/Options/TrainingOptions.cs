using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>
/// Adapter training through POST /v1/adapters/{name}/train: one image-caption pair per set, trained on the serving
/// engine between generation steps, then stored in the registry folder (Glance:Adapters:Path).
/// </summary>
internal sealed class TrainingOptions
{
    public const string Section = "Glance:Training";

    /// <summary>Whether the train endpoint takes jobs (admin keys still required when keys are configured).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The most of the engine's time training may take while generation requests wait, measured per step (0.5, the most:
    /// half; 0.25: a quarter; 0: only when no request waits). With nothing waiting, training takes all of it.
    /// </summary>
    [Range(0.0, 0.5)]
    public double MaxShare { get; set; } = 0.5;

    /// <summary>Training jobs waiting for the engine (the one it runs no longer counts); more are refused with 429.</summary>
    [Range(1, 1000)]
    public int MaxQueued { get; set; } = 4;

    /// <summary>The largest training image accepted, in MiB of PNG or JPEG.</summary>
    [Range(1, 1024)]
    public int MaxImageMiB { get; set; } = 32;

    public long MaxImageBytes => MaxImageMiB * (1L << 20);

    /// <summary>The most pixels a training image may declare (checked from its header, before decoding).</summary>
    [Range(1, 1_000_000_000)]
    public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>The most steps per phase a request may ask for (the recipe uses 60).</summary>
    [Range(1, 100_000)]
    public int MaxSteps { get; set; } = 1000;

    /// <summary>The largest LoRA rank a request may ask for (the recipes use 16 and 32).</summary>
    [Range(1, 1024)]
    public int MaxRank { get; set; } = 128;
}
