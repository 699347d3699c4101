using Glance.Engine.Sampling;

namespace Glance.Engine.Pipeline;

/// <summary>
/// What serving and sampling need to know of a loaded model, whatever its family: its schedule, how guidance works,
/// the sizes and step counts it accepts, and its latent grid.
/// </summary>
/// <param name="Family">"glance-mini", "flux.1-dev", "flux.1-schnell" or "qwen-image".</param>
/// <param name="DistilledGuidance">The guidance scale enters the transformer as an input (FLUX.1-dev) rather than as true CFG.</param>
/// <param name="PixelsPerToken">Pixels per packed token side: the autoencoder's downsampling times the 2x2 patch.</param>
/// <param name="LatentChannels">Channels of the autoencoder's latent (before 2x2 packing).</param>
/// <param name="DefaultNegativePrompt">The negative prompt of true CFG when a request gives none.</param>
/// <param name="AdapterScaleWithoutAlpha">The LoRA scale for adapter files that carry no alpha (1: alpha = rank).</param>
public sealed record ModelProfile(
    string Name,
    string Family,
    FlowMatchScheduleConfig Schedule,
    GuidanceConfig Guidance,
    bool DistilledGuidance,
    int DefaultWidth,
    int DefaultHeight,
    int MinSize,
    int MaxSize,
    int PixelsPerToken,
    int LatentChannels,
    int DefaultBaseSteps,
    int MaxBaseSteps,
    int MaxPromptLength,
    string DefaultNegativePrompt = "",
    double AdapterScaleWithoutAlpha = 1.0)
{
    /// <summary>The autoencoder's downsampling factor (the 2x2 patch aside).</summary>
    public int DownsampleFactor => PixelsPerToken / 2;
}
