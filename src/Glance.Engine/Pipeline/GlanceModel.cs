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
public sealed class GlanceModel : IDisposable
{
    public const string TransformerFile = "transformer.safetensors";
    public const string AutoencoderFile = "ae.safetensors";
    public const string TextEncoderFile = "text_encoder.safetensors";
    public const string WordVocabularyFile = "vocab.txt";
    public const string SentencePieceFile = "spiece.model";
    public const string AdaptersFolder = "adapters";

    readonly List<string> _adapters = [];
    long _mergedCacheBudgetBytes = new EngineOptions().MergedAdapterCacheMiB * 1024L * 1024L;

    internal GlanceModel(GlanceModelConfig config, ITextTokenizer tokenizer, ITextTokenizer? pooledTokenizer, Device device, ScalarType dtype,
        (Device Device, ScalarType DType)? textEncoders = null)
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
        Device = device;
        DType = dtype;
        (TextDevice, TextDType) = textEncoders ?? (device, dtype);
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
    public Device Device { get; }
    public ScalarType DType { get; }

    /// <summary>Where the text encoders run (the model's device unless configured apart); their outputs move to <see cref="Device"/>.</summary>
    public Device TextDevice { get; }
    public ScalarType TextDType { get; }

    /// <summary>Names of the adapters attached to the transformer.</summary>
    public IReadOnlyList<string> Adapters => _adapters;

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

        var model = new GlanceModel(config, tokenizer, null, device, dtype, TorchRuntime.ResolveTextEncoders(options, device, dtype))
        {
            _mergedCacheBudgetBytes = options.MergedAdapterCacheMiB * 1024L * 1024L,
        };
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

    ModuleSlice? ResolveAdapterTarget(string module) => FluxCheckpointNames.MapDiffusersModule(module, Config.Transformer);

    /// <summary>Attaches an adapter file (PEFT/diffusers or kohya layout) to the transformer under a name.</summary>
    public void AttachAdapter(string name, string path, double? scaleOverride = null)
    {
        if (_adapters.Contains(name)) throw new InvalidOperationException($"An adapter named '{name}' is already attached.");
        var file = LoraFile.Read(path);
        LoraAttacher.Attach(Transformer, name, file, ResolveAdapterTarget, scaleOverride);
        _adapters.Add(name);
        UpdateMergedWeightCache();
    }

    /// <summary>
    /// Attaches a fresh trainable adapter (down random, up zero) on the given transformer modules: BFL paths, or
    /// diffusers module names (a to_q trains the query rows of the fused qkv and is saved under its own name).
    /// </summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> AddTrainableAdapter(string name, IEnumerable<string> targets, int rank, double alpha, long seed)
    {
        if (_adapters.Contains(name)) throw new InvalidOperationException($"An adapter named '{name}' is already attached.");
        var parameters = LoraAttacher.CreateTrainable(Transformer, name, targets, rank, alpha, seed, ResolveAdapterTarget);
        _adapters.Add(name);
        UpdateMergedWeightCache();
        return parameters;
    }

    public void DetachAdapter(string name)
    {
        if (!_adapters.Remove(name)) return;
        LoraAttacher.Detach(Transformer, name);
        UpdateMergedWeightCache();
    }

    /// <summary>Whether phase-uniform batches use cached merged weights (see <see cref="EngineOptions.MergedAdapterCacheMiB"/>).</summary>
    public bool UsesMergedWeightCache { get; private set; }

    void UpdateMergedWeightCache()
    {
        var layers = LoraLayers.Of(Transformer).Values.ToArray();
        long needed = layers.Sum(l => l.MergedWeightBytes * l.AdapterNames.Count);
        UsesMergedWeightCache = needed > 0 && needed <= _mergedCacheBudgetBytes;
        foreach (var layer in layers) layer.CacheMergedWeights = UsesMergedWeightCache && layer.AdapterNames.Count > 0;
    }

    internal long MergedCacheBudgetBytes
    {
        set => _mergedCacheBudgetBytes = value;
    }

    /// <summary>
    /// Encodes prompts in one batch: T5 context [B, MaxTextTokens, D] and the pooled vector, CLIP's pooler output over
    /// its own tokens when the model has CLIP, else the masked mean of the context.
    /// </summary>
    public TextConditioning EncodeText(IReadOnlyList<string> prompts)
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
    public IReadOnlyList<PromptTruncation> Truncations(string field, string text)
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

    /// <summary>Velocity prediction for packed latents [B, L, C] at per-sample sigmas [B].</summary>
    public Tensor PredictVelocity(Tensor packedLatents, Tensor sigmas, TextConditioning text, int width, int height, Tensor? guidance = null)
    {
        ArgumentNullException.ThrowIfNull(packedLatents);
        ArgumentNullException.ThrowIfNull(text);
        using var scope = NewDisposeScope();
        var (latentH, latentW) = LatentSize(width, height);
        var imgIds = LatentPacking.ImageIds(latentH, latentW).to(Device);
        var txtIds = LatentPacking.TextIds(text.Context.shape[1]).to(Device);
        var velocity = Transformer.Forward(
            packedLatents.to(DType), imgIds, text.Context.to(DType), txtIds,
            sigmas.to(DType), text.Pooled.to(DType), guidance?.to(DType));
        return velocity.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Initial noise [L, C] (packed, float32) drawn from the seed alone, identical on every device and batch.</summary>
    public Tensor Noise(long seed, int width, int height)
    {
        using var scope = NewDisposeScope();
        var (latentH, latentW) = LatentSize(width, height);
        using var generator = new Generator((ulong)seed, CPU);
        var noise = randn([1, Config.Autoencoder.ZChannels, latentH, latentW], dtype: ScalarType.Float32, device: CPU, generator: generator);
        return LatentPacking.Pack(noise).squeeze(0).to(Device).MoveToOuterDisposeScope();
    }

    /// <summary>Packed latents [B, L, C] to 8-bit RGB images [B, H, W, 3] on the CPU.</summary>
    public Tensor DecodeToRgb(Tensor packedLatents, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(packedLatents);
        using var scope = NewDisposeScope();
        var (latentH, latentW) = LatentSize(width, height);
        var latents = LatentPacking.Unpack(packedLatents.to(DType), latentH, latentW);
        var images = Autoencoder.Decode(latents).to(ScalarType.Float32).Clamped(-1, 1);
        var rgb = images.Plus(1.0).Times(127.5).round().to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().cpu();
        return rgb.MoveToOuterDisposeScope();
    }

    /// <summary>Images [B, 3, H, W] in [-1, 1] to packed latents [B, L, C] (float32), using the latent mean.</summary>
    public Tensor EncodeToLatents(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        var latents = Autoencoder.Encode(images.to(Device).to(DType));
        return LatentPacking.Pack(latents).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public (int LatentH, int LatentW) LatentSize(int width, int height)
    {
        int cell = Config.PixelsPerToken;
        if (width % cell != 0 || height % cell != 0)
            throw new ArgumentException($"Width and height must be multiples of {cell}; received {width}x{height}.");
        int f = Config.Autoencoder.DownsampleFactor;
        return (height / f, width / f);
    }

    /// <summary>Packed image tokens for a resolution, as used by dynamic schedule shifting.</summary>
    public int ImageSeqLen(int width, int height) => width / Config.PixelsPerToken * (height / Config.PixelsPerToken);

    public void Dispose()
    {
        Transformer.Dispose();
        Autoencoder.Dispose();
        TextEncoder.Dispose();
        PooledTextEncoder?.Dispose();
        HostMemory.Release();
    }
}
