using Glance.Engine.Training;
using Glance.Engine.Models.T5;
using Glance.Engine.Checkpoints;
using Glance.Engine.Latents;
using Glance.Engine.Lora;
using Glance.Engine.Models;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.Flux;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>
/// A text-to-image model bundle: FLUX-architecture transformer, FLUX-architecture autoencoder, T5-architecture
/// text encoder and its tokenizer (plus, for FLUX.1, CLIP's text model for the pooled vector), on one device in one
/// precision. Its tensor methods must be called from the thread that owns the model. It loads from our own model
/// folder (config.json, transformer.safetensors, ae.safetensors, text_encoder.safetensors, the tokenizer file and
/// adapters/NAME.safetensors) or from an unmodified FLUX.1 snapshot (see <see cref="FluxSnapshot"/>).
/// </summary>
public sealed class GlanceModel : DiffusionModel
{
    public const string TransformerFile = "transformer.safetensors";
    public const string AutoencoderFile = "ae.safetensors";
    public const string TextEncoderFile = "text_encoder.safetensors";
    public const string WordVocabularyFile = "vocab.txt";
    public const string SentencePieceFile = "spiece.model";
    public const string AdaptersFolder = "adapters";

    internal GlanceModel(GlanceModelConfig config, ITextTokenizer tokenizer, ITextTokenizer? pooledTokenizer, Device device, ScalarType dtype,
        (Device Device, ScalarType DType)? textEncoders = null)
        : base(device, dtype, textEncoders)
    {
        Config = config.Validate();
        if (tokenizer.VocabSize > config.TextEncoder.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} ids; the text encoder's vocabulary has {config.TextEncoder.VocabSize}.");
        if ((config.PooledTextEncoder is null) != (pooledTokenizer is null))
            throw new ArgumentException($"A CLIP text encoder and its tokenizer come together; received encoder {(config.PooledTextEncoder is null ? "none" : "set")} and tokenizer {(pooledTokenizer is null ? "none" : "set")}.");
        if (pooledTokenizer is not null && pooledTokenizer.VocabSize > config.PooledTextEncoder!.VocabSize)
            throw new ArgumentException($"The CLIP tokenizer has {pooledTokenizer.VocabSize} ids; the CLIP text encoder's vocabulary has {config.PooledTextEncoder.VocabSize}.");
        Tokenizer = tokenizer;
        PooledTokenizer = pooledTokenizer;
        Profile = ProfileOf(config);
        Transformer = new FluxTransformer(config.Transformer, dtype, device);
        Autoencoder = new AutoEncoder(config.Autoencoder, dtype, device);
        TextEncoder = new T5Encoder(config.TextEncoder, TextDType, TextDevice);
        PooledTextEncoder = config.PooledTextEncoder is { } clip ? new ClipTextModel(clip, TextDType, TextDevice) : null;
        Transformer.eval();
        Autoencoder.eval();
        TextEncoder.eval();
        PooledTextEncoder?.eval();
    }

    public GlanceModelConfig Config { get; }
    public FluxTransformer Transformer { get; }
    public AutoEncoder Autoencoder { get; }
    public T5Encoder TextEncoder { get; }
    public ITextTokenizer Tokenizer { get; }

    /// <summary>CLIP's text model, whose pooler output is the pooled vector (FLUX.1); null when the T5 mean serves.</summary>
    public ClipTextModel? PooledTextEncoder { get; }

    public ITextTokenizer? PooledTokenizer { get; }

    public override ModelProfile Profile { get; }

    public override nn.Module Denoiser => Transformer;

    public override AdapterRouting Routing => Transformer.Routing;

    /// <summary>The family a configuration describes: FLUX.1 snapshots carry CLIP; our own folders are glance-mini's kind.</summary>
    internal static ModelProfile ProfileOf(GlanceModelConfig c) => new(
        c.Name,
        c.PooledTextEncoder is null ? "glance-mini" : c.Transformer.GuidanceEmbed ? "flux.1-dev" : "flux.1-schnell",
        c.Schedule, c.Guidance, c.Transformer.GuidanceEmbed,
        c.DefaultWidth, c.DefaultHeight, c.MinSize, c.MaxSize, c.PixelsPerToken, c.Autoencoder.ZChannels,
        c.DefaultBaseSteps, c.MaxBaseSteps, c.MaxPromptLength);

    /// <summary>A model with freshly initialised weights (tests, benchmarks, and the start of training).</summary>
    public static GlanceModel Create(GlanceModelConfig config, ITextTokenizer tokenizer, Device device, ScalarType dtype, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        random.manual_seed(seed);
        return new GlanceModel(config, tokenizer, null, device, dtype);
    }

    /// <summary>A model with fresh weights and a CLIP tokenizer for a config with a CLIP text encoder (tests, fixtures).</summary>
    public static GlanceModel Create(GlanceModelConfig config, ITextTokenizer tokenizer, ITextTokenizer pooledTokenizer, Device device, ScalarType dtype, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(pooledTokenizer);
        random.manual_seed(seed);
        return new GlanceModel(config, tokenizer, pooledTokenizer, device, dtype);
    }

    /// <summary>
    /// Loads a model folder, strictly (every key present, none unexpected): an unmodified FLUX.1 snapshot when the folder
    /// has a model_index.json, else our own format, whose adapters/ it attaches.
    /// </summary>
    public static GlanceModel Load(string folder, EngineOptions options, double? adapterScale = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        if (FluxSnapshot.PipelineClassOf(folder) is not null) return FluxSnapshotLoading.Load(FluxSnapshot.Open(folder), options);
        var config = GlanceModelConfig.Load(Path.Combine(folder, GlanceModelConfig.FileName));
        var device = TorchRuntime.ResolveDevice(options.Device);
        var dtype = TorchRuntime.ResolveDType(options.DType, device);
        var tokenizer = ModelTokenizers.ForOwnFolder(folder, config).T5;

        // StateDictIO.Load requires every key, so the parameters are left uninitialised until it fills them.
        GlanceModel model;
        using (ParameterInitialization.Skip())
        {
            model = new GlanceModel(config, tokenizer, null, device, dtype, TorchRuntime.ResolveTextEncoders(options, device, dtype))
            {
                MergedCacheBudgetBytes = options.MergedAdapterCacheMiB * 1024L * 1024L,
                ExamplePrompts = ModelExamples.Read(folder, tokenizer),
            };
        }
        try
        {
            StateDictIO.Load(model.Transformer, Path.Combine(folder, TransformerFile));
            StateDictIO.Load(model.Autoencoder, Path.Combine(folder, AutoencoderFile));
            StateDictIO.Load(model.TextEncoder, Path.Combine(folder, TextEncoderFile));
            string adapters = Path.Combine(folder, AdaptersFolder);
            if (Directory.Exists(adapters))
            {
                foreach (string file in Directory.GetFiles(adapters, "*.safetensors").Order(StringComparer.Ordinal))
                    model.AttachAdapter(Path.GetFileNameWithoutExtension(file), file, adapterScale);
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Writes config, weights (optionally stored in a smaller float type) and tokenizer, not adapters, into a model folder.</summary>
    public void Save(string folder, ScalarType? storage = null)
    {
        Directory.CreateDirectory(folder);
        Config.Save(Path.Combine(folder, GlanceModelConfig.FileName));
        StateDictIO.Save(Transformer, Path.Combine(folder, TransformerFile), storage);
        StateDictIO.Save(Autoencoder, Path.Combine(folder, AutoencoderFile), storage);
        StateDictIO.Save(TextEncoder, Path.Combine(folder, TextEncoderFile), storage);
        if (Tokenizer is WordTokenizer words) words.Save(Path.Combine(folder, WordVocabularyFile));
    }

    public override TrainingRecipe TrainingRecipe => TrainingRecipe.Flux;

    public override IReadOnlyList<string> AdapterTargets(string targetSet) => LoraTargetSets.Named(targetSet, Config.Transformer);

    protected override ModuleSlice? ResolveAdapterTarget(string moduleName) => FluxCheckpointNames.MapDiffusersModule(moduleName, Config.Transformer);

    /// <summary>
    /// Encodes prompts in one batch: T5 context [B, MaxTextTokens, D] and the pooled vector, CLIP's pooler output over
    /// its own tokens when the model has CLIP, else the masked mean of the context.
    /// </summary>
    public override TextConditioning EncodeText(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        using var scope = NewDisposeScope();
        var (ids, mask) = TokenBatch.Encode(Tokenizer, prompts, Config.MaxTextTokens).ToTensors(TextDevice);
        var context = TextEncoder.Forward(ids, Config.MaskTextPadding ? mask : null);
        Tensor pooled;
        if (PooledTextEncoder is { } clip)
        {
            var (clipIds, _) = TokenBatch.Encode(PooledTokenizer!, prompts, clip.Config.MaxPositionEmbeddings).ToTensors(TextDevice);
            pooled = clip.Forward(clipIds).Pooled;
        }
        else
        {
            var weights = mask.to(context.dtype).unsqueeze(-1);
            pooled = context.mul(weights).sum(1).div(weights.sum(1).ClampedBelow(1));
        }
        if (TextDevice.type != Device.type || TextDevice.index != Device.index || TextDType != DType)
        {
            context = context.to(DType).to(Device);
            pooled = pooled.to(DType).to(Device);
        }
        return new TextConditioning(context.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope());
    }

    /// <summary>The encoders that would cut this text, with its token count and what they keep (no tensors involved).</summary>
    public override IReadOnlyList<PromptTruncation> Truncations(string field, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cuts = new List<PromptTruncation>(2);
        int t5 = Tokenizer.Encode(text).Count;
        if (t5 > Config.MaxTextTokens) cuts.Add(new PromptTruncation(field, "t5", t5, Config.MaxTextTokens));
        if (PooledTextEncoder is { } clip && PooledTokenizer is { } clipTokenizer)
        {
            int tokens = clipTokenizer.Encode(text).Count;
            if (tokens > clip.Config.MaxPositionEmbeddings) cuts.Add(new PromptTruncation(field, "clip", tokens, clip.Config.MaxPositionEmbeddings));
        }
        return cuts;
    }

    public override IReadOnlyList<PromptTokenLimit> PromptTokenLimits =>
        PooledTextEncoder is { } clip
            ? [new PromptTokenLimit("clip", clip.Config.MaxPositionEmbeddings), new PromptTokenLimit("t5", Config.MaxTextTokens)]
            : [new PromptTokenLimit("t5", Config.MaxTextTokens)];

    public override Tensor PredictVelocity(Tensor packedLatents, Tensor sigmas, TextConditioning text, int width, int height, Tensor? guidance = null)
    {
        ArgumentNullException.ThrowIfNull(packedLatents);
        ArgumentNullException.ThrowIfNull(text);
        using var scope = NewDisposeScope();
        var (latentH, latentW) = LatentSize(width, height);
        var imgIds = LatentPacking.ImageIds(latentH, latentW).to(Device);
        var txtIds = LatentPacking.TextIds(text.Context.shape[1]).to(Device);
        var velocity = Transformer.Forward(
            packedLatents.to(DType), imgIds, text.Context.to(DType), txtIds,
            sigmas.to(DType), (text.Pooled ?? throw new ArgumentException("FLUX-family models need the pooled text vector.", nameof(text))).to(DType), guidance?.to(DType));
        return velocity.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    protected override Tensor DecodeLatents(Tensor latents) => Autoencoder.Decode(latents);

    protected override Tensor EncodeImages(Tensor images) => Autoencoder.Encode(images);

    protected override void DisposeModules()
    {
        Transformer.Dispose();
        Autoencoder.Dispose();
        TextEncoder.Dispose();
        PooledTextEncoder?.Dispose();
    }
}
