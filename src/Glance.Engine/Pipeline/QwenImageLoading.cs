using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using Glance.Engine.Text;

namespace Glance.Engine.Pipeline;

/// <summary>Builds a <see cref="QwenImageModel"/> from an unmodified Qwen-Image snapshot: configs read, weights streamed in as the files name them.</summary>
public static class QwenImageLoading
{
    /// <summary>QwenImagePipeline's true_cfg_scale default, and the range this service accepts.</summary>
    public const double DefaultTrueCfgScale = 4.0;
    public const double MaxTrueCfgScale = 20.0;

    /// <summary>The negative prompt when a request gives none: " ", as the Glance reference runs Qwen-Image (the pipeline itself skips CFG without one).</summary>
    public const string DefaultNegativePrompt = " ";

    /// <summary>
    /// The scale for adapter files without alpha: the published Glance Qwen-Image LoRAs were trained with alpha = 4 x rank
    /// and saved without alpha, so alpha / rank = 4 is the strength they were trained at (alpha = rank would apply a quarter).
    /// </summary>
    public const double GlanceAdapterScale = 4.0;

    /// <summary>The serving profile of a snapshot: true CFG with the norm rescale, 50 base steps, 1024x1024 by default.</summary>
    public static ModelProfile Profile(QwenImageSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        int cell = snapshot.Autoencoder.DownsampleFactor * snapshot.Transformer.PatchSize;
        return new ModelProfile(
            Name: Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(snapshot.Root))),
            Family: "qwen-image",
            Schedule: snapshot.Schedule,
            Guidance: new GuidanceConfig(TrueCfg: true, DefaultScale: DefaultTrueCfgScale, MaxScale: MaxTrueCfgScale, NormRescale: true),
            DistilledGuidance: false,
            DefaultWidth: 64 * cell,
            DefaultHeight: 64 * cell,
            MinSize: 4 * cell,
            MaxSize: 128 * cell,
            PixelsPerToken: cell,
            LatentChannels: snapshot.Autoencoder.ZDim,
            DefaultBaseSteps: 50,
            MaxBaseSteps: 100,
            MaxPromptLength: 8000,
            DefaultNegativePrompt: DefaultNegativePrompt,
            AdapterScaleWithoutAlpha: GlanceAdapterScale);
    }

    /// <param name="snapshot">The opened snapshot.</param>
    /// <param name="options">Device, dtype, text-encoder placement and the text length (default the pipeline's 512).</param>
    /// <param name="step">Wraps building the modules and each component's weight load, in that order; null runs them plainly.</param>
    public static QwenImageModel Load(QwenImageSnapshot snapshot, EngineOptions options, FluxSnapshotLoading.LoadStep? step = null)
    {
        step ??= static (_, _, run) => run();
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var tokenizer = Qwen2Tokenizer.Load(snapshot.TokenizerFolder);
        var device = TorchRuntime.ResolveDevice(options.Device);
        var dtype = TorchRuntime.ResolveDType(options.DType, device);
        QwenImageModel model = null!;
        // Every parameter is then loaded (the loader checks that each is covered), so none is randomly initialised.
        step("construct", null, () =>
        {
            using (ParameterInitialization.Skip())
            {
                model = new QwenImageModel(snapshot, tokenizer, Profile(snapshot),
                    options.MaxSequenceLength ?? QwenImagePromptTemplate.DefaultMaxSequenceLength, device, dtype, TorchRuntime.ResolveTextEncoders(options, device, dtype))
                {
                    MergedCacheBudgetBytes = options.MergedAdapterCacheMiB * 1024L * 1024L,
                };
            }
        });
        try
        {
            step("transformer", snapshot.TransformerWeights, () => PlacedCheckpointLoader.Load(model.Transformer, snapshot.TransformerWeights,
                QwenImageCheckpointNames.Map, "diffusers QwenImageTransformer2DModel"));
            step("vae", snapshot.AutoencoderWeights, () => PlacedCheckpointLoader.Load(model.Autoencoder, snapshot.AutoencoderWeights,
                QwenImageAutoencoderCheckpointNames.Map, "diffusers AutoencoderKLQwenImage"));
            step("text_encoder", snapshot.TextEncoderWeights, () => PlacedCheckpointLoader.Load(model.TextEncoder, snapshot.TextEncoderWeights,
                Qwen25VLCheckpointNames.Map, "transformers Qwen2_5_VLForConditionalGeneration"));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
