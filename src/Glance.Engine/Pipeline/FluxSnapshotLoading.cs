using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.Flux;
using Glance.Engine.Models.T5;
using Glance.Engine.Runtime;

namespace Glance.Engine.Pipeline;

/// <summary>Builds a <see cref="GlanceModel"/> from an unmodified FLUX.1 snapshot: configs composed, weights streamed in as the files name them.</summary>
public static class FluxSnapshotLoading
{
    /// <summary>FluxPipeline's distilled-guidance default for dev, and the range this service accepts.</summary>
    public const double DevGuidance = 3.5;
    public const double MaxDevGuidance = 20.0;

    /// <summary>The serving configuration of a snapshot: dev takes distilled guidance and 50 base steps; schnell no guidance and 4 steps.</summary>
    public static GlanceModelConfig Compose(FluxSnapshot snapshot, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        int t5Tokens = maxSequenceLength ?? snapshot.DefaultT5Tokens;
        if (t5Tokens < 1 || t5Tokens > FluxSnapshot.MaxT5Tokens)
            throw new ArgumentException($"MaxSequenceLength is {t5Tokens}; FLUX.1 reads 1 to {FluxSnapshot.MaxT5Tokens} T5 tokens.");
        bool dev = snapshot.Transformer.GuidanceEmbed;
        int cell = snapshot.Autoencoder.DownsampleFactor * 2;
        return new GlanceModelConfig(
            Name: Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(snapshot.Root))),
            Transformer: snapshot.Transformer,
            Autoencoder: snapshot.Autoencoder,
            TextEncoder: snapshot.T5,
            Tokenizer: GlanceModelConfig.SentencePieceTokenizerKind,
            MaxTextTokens: t5Tokens,
            Schedule: snapshot.Schedule,
            Guidance: dev ? new GuidanceConfig(TrueCfg: false, DefaultScale: DevGuidance, MaxScale: MaxDevGuidance) : new GuidanceConfig(TrueCfg: false, DefaultScale: 0, MaxScale: 0),
            DefaultWidth: 64 * cell,
            DefaultHeight: 64 * cell,
            MinSize: 4 * cell,
            MaxSize: 128 * cell,
            DefaultBaseSteps: dev ? 50 : 4,
            MaxBaseSteps: 100,
            MaxPromptLength: 4000,
            PooledTextEncoder: snapshot.Clip,
            MaskTextPadding: false);
    }

    /// <summary>Runs one step of a load: the component's name ("construct", "transformer", "vae", "clip", "t5"), the weights path (none for construct) and the step.</summary>
    public delegate void LoadStep(string component, string? weights, Action step);

    /// <param name="snapshot">The opened snapshot.</param>
    /// <param name="options">Device, dtype and text-encoder placement.</param>
    /// <param name="step">Wraps building the modules and each component's weight load, in that order (`glance bench load` times them); null runs them plainly.</param>
    public static GlanceModel Load(FluxSnapshot snapshot, EngineOptions options, LoadStep? step = null)
    {
        step ??= static (_, _, run) => run();
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var config = Compose(snapshot, options.MaxSequenceLength);
        var tokenizers = ModelTokenizers.ForSnapshot(snapshot, config);
        var device = TorchRuntime.ResolveDevice(options.Device);
        var dtype = TorchRuntime.ResolveDType(options.DType, device);
        GlanceModel model = null!;
        // Every parameter is then loaded (the loader checks that each is covered), so none is randomly initialised.
        step("construct", null, () =>
        {
            using (ParameterInitialization.Skip())
            {
                model = new GlanceModel(config, tokenizers.T5, tokenizers.Clip, device, dtype, TorchRuntime.ResolveTextEncoders(options, device, dtype))
                {
                    MergedCacheBudgetBytes = options.MergedAdapterCacheMiB * 1024L * 1024L,
                };
            }
        });
        try
        {
            bool diffusers = snapshot.Layout == FluxWeightsLayout.Diffusers;
            bool diffusersVae = snapshot.AutoencoderWeights != Path.Combine(snapshot.Root, FluxSnapshot.AutoencoderSingleFile);
            step("transformer", snapshot.TransformerWeights, () => PlacedCheckpointLoader.Load(model.Transformer, snapshot.TransformerWeights,
                FluxCheckpointNames.Placements(config.Transformer), diffusers ? "diffusers FluxTransformer2DModel" : "BFL FLUX.1"));
            step("vae", snapshot.AutoencoderWeights, () => PlacedCheckpointLoader.Load(model.Autoencoder, snapshot.AutoencoderWeights,
                diffusersVae ? AutoencoderCheckpointNames.DiffusersPlacements(config.Autoencoder) : PlacedCheckpointLoader.SameKeys(model.Autoencoder),
                diffusersVae ? "diffusers AutoencoderKL" : "BFL autoencoder"));
            step("clip", snapshot.ClipWeights, () => PlacedCheckpointLoader.Load(model.PooledTextEncoder!, snapshot.ClipWeights, ClipCheckpointNames.MapHuggingFaceKey, "transformers CLIPTextModel"));
            step("t5", snapshot.T5Weights, () => PlacedCheckpointLoader.Load(model.TextEncoder, snapshot.T5Weights, T5CheckpointNames.MapHuggingFaceKey, "transformers T5EncoderModel"));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
