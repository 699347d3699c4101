using Glance.Engine.Models.T5;
using Glance.Engine.Models;
using Glance.Engine.Models.Flux;
using Glance.Engine.Sampling;
using Glance.Engine.Text;

namespace Glance.Engine.Pipeline;

/// <summary>The registry of text-to-image model bundle configurations that can be built from scratch.</summary>
public static class GlanceModelPresets
{
    /// <summary>
    /// glance-mini: a small model of the FLUX family trained by `glance train-base` on the procedural shapes
    /// world at 64x64 (4x autoencoder with 8 latent channels, 64 image tokens), with true CFG. The latent grid is
    /// 4x rather than FLUX's 8x because a small object is about 10 pixels wide: at 8x it covered one latent cell
    /// and squares came back round (69% shape accuracy on the first autoencoder's own reconstructions).
    /// </summary>
    public static GlanceModelConfig GlanceMini { get; } = new(
        Name: "glance-mini",
        Transformer: new FluxConfig(
            InChannels: 32, VecInDim: 128, ContextInDim: 128, HiddenSize: 192, MlpRatio: 4, NumHeads: 3,
            Depth: 2, DepthSingleBlocks: 4, AxesDim: [16, 24, 24], Theta: 10_000, QkvBias: true, GuidanceEmbed: false),
        Autoencoder: new AutoencoderConfig(
            Resolution: 64, InChannels: 3, Ch: 32, OutCh: 3, ChMult: [1, 2, 2], NumResBlocks: 1, ZChannels: 8,
            ScaleFactor: 1.0, ShiftFactor: 0.0),
        TextEncoder: new T5Config(VocabSize: 64, DModel: 128, DKv: 32, DFf: 256, NumLayers: 2, NumHeads: 4),
        Tokenizer: GlanceModelConfig.WordTokenizerKind,
        MaxTextTokens: 16,
        Schedule: new FlowMatchScheduleConfig(DynamicShift: true, BaseShift: 0.5, MaxShift: 1.15, BaseSeqLen: 16, MaxSeqLen: 256),
        Guidance: new GuidanceConfig(TrueCfg: true, DefaultScale: 4.0, MaxScale: 20.0),
        DefaultWidth: 64, DefaultHeight: 64, MinSize: 32, MaxSize: 256,
        DefaultBaseSteps: 50, MaxBaseSteps: 100, MaxPromptLength: 200);

    /// <summary>A few-thousand-parameter model for tests and benchmarks of the machinery.</summary>
    public static GlanceModelConfig Tiny { get; } = new(
        Name: "tiny",
        Transformer: new FluxConfig(
            InChannels: 16, VecInDim: 32, ContextInDim: 32, HiddenSize: 32, MlpRatio: 2, NumHeads: 2,
            Depth: 1, DepthSingleBlocks: 1, AxesDim: [4, 6, 6], Theta: 10_000, QkvBias: true, GuidanceEmbed: false),
        Autoencoder: new AutoencoderConfig(
            Resolution: 32, InChannels: 3, Ch: 32, OutCh: 3, ChMult: [1, 1], NumResBlocks: 1, ZChannels: 4,
            ScaleFactor: 1.0, ShiftFactor: 0.0),
        TextEncoder: new T5Config(VocabSize: 64, DModel: 32, DKv: 8, DFf: 64, NumLayers: 1, NumHeads: 4),
        Tokenizer: GlanceModelConfig.WordTokenizerKind,
        MaxTextTokens: 8,
        Schedule: new FlowMatchScheduleConfig(DynamicShift: true, BaseShift: 0.5, MaxShift: 1.15, BaseSeqLen: 16, MaxSeqLen: 256),
        Guidance: new GuidanceConfig(TrueCfg: true, DefaultScale: 3.0, MaxScale: 10.0),
        DefaultWidth: 16, DefaultHeight: 16, MinSize: 8, MaxSize: 64,
        DefaultBaseSteps: 8, MaxBaseSteps: 50, MaxPromptLength: 100);

    public static IReadOnlyList<GlanceModelConfig> All { get; } = [GlanceMini, Tiny];

    public static GlanceModelConfig Get(string name) =>
        All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown model preset '{name}'; known presets: {string.Join(", ", All.Select(c => c.Name))}.", nameof(name));
}
