namespace Glance.Engine.Sampling;

/// <summary>Sampling defaults of a base model family.</summary>
/// <param name="LatentDownsample">Pixels per latent cell (8 for the FLUX and Qwen-Image autoencoders).</param>
/// <param name="PatchSize">Latent cells per packed token side (2x2 patches).</param>
/// <param name="DefaultGuidance">FLUX.1-dev: distilled guidance 3.5; Qwen-Image: true CFG scale 5.</param>
public sealed record SamplerPreset(
    string Name,
    FlowMatchScheduleConfig Schedule,
    int LatentDownsample,
    int PatchSize,
    double DefaultGuidance,
    bool TrueCfg,
    bool CfgNormRescale)
{
    /// <summary>Packed image tokens: (H / 16) * (W / 16) for an 8x autoencoder with 2x2 patches.</summary>
    public int ImageSeqLen(int width, int height)
    {
        int cell = LatentDownsample * PatchSize;
        if (width <= 0 || height <= 0 || width % cell != 0 || height % cell != 0)
            throw new ArgumentException($"Width and height must be positive multiples of {cell}; received {width}x{height}.");
        return width / cell * (height / cell);
    }
}

/// <summary>The registry of sampler presets.</summary>
public static class SamplerPresets
{
    public static readonly SamplerPreset Flux = new(
        "flux",
        new FlowMatchScheduleConfig(DynamicShift: true, BaseShift: 0.5, MaxShift: 1.15, BaseSeqLen: 256, MaxSeqLen: 4096),
        LatentDownsample: 8, PatchSize: 2, DefaultGuidance: 3.5, TrueCfg: false, CfgNormRescale: false);

    public static readonly SamplerPreset QwenImage = new(
        "qwen-image",
        new FlowMatchScheduleConfig(DynamicShift: true, BaseShift: 0.5, MaxShift: 0.9, BaseSeqLen: 256, MaxSeqLen: 8192, TerminalSigma: 0.02),
        LatentDownsample: 8, PatchSize: 2, DefaultGuidance: 5.0, TrueCfg: true, CfgNormRescale: true);

    public static IReadOnlyList<SamplerPreset> All { get; } = [Flux, QwenImage];

    public static SamplerPreset Get(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown sampler preset '{name}'; known presets: {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));
}
