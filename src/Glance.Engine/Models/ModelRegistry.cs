using Glance.Engine.Models.Flux;

namespace Glance.Engine.Models;

/// <summary>Known model shapes by name: the released FLUX.1 variants and a tiny one for tests.</summary>
public static class ModelRegistry
{
    static readonly Dictionary<string, FluxConfig> Presets = new(StringComparer.OrdinalIgnoreCase)
    {
        ["flux1-dev"] = new FluxConfig(
            InChannels: 64, VecInDim: 768, ContextInDim: 4096, HiddenSize: 3072, MlpRatio: 4.0, NumHeads: 24,
            Depth: 19, DepthSingleBlocks: 38, AxesDim: [16, 56, 56], Theta: 10_000, QkvBias: true, GuidanceEmbed: true),
        ["flux1-schnell"] = new FluxConfig(
            InChannels: 64, VecInDim: 768, ContextInDim: 4096, HiddenSize: 3072, MlpRatio: 4.0, NumHeads: 24,
            Depth: 19, DepthSingleBlocks: 38, AxesDim: [16, 56, 56], Theta: 10_000, QkvBias: true, GuidanceEmbed: false),
        ["tiny"] = new FluxConfig(
            InChannels: 16, VecInDim: 8, ContextInDim: 24, HiddenSize: 32, MlpRatio: 4.0, NumHeads: 2,
            Depth: 1, DepthSingleBlocks: 1, AxesDim: [4, 6, 6], Theta: 10_000, QkvBias: true, GuidanceEmbed: true),
    };

    public static IReadOnlyCollection<string> Names => Presets.Keys;

    /// <summary>The preset called <paramref name="name"/> (case-insensitive), as a fresh copy callers may alter.</summary>
    public static FluxConfig Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Presets.TryGetValue(name.Trim(), out var config))
            throw new KeyNotFoundException($"Unknown model '{name}'; known models: {string.Join(", ", Presets.Keys)}.");
        return config with { AxesDim = [.. config.AxesDim] };
    }
}
