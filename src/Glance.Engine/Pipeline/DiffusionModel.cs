using Glance.Engine.Latents;
using Glance.Engine.Lora;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>
/// A loaded text-to-image model of any family (glance-mini and FLUX.1: <see cref="GlanceModel"/>; Qwen-Image:
/// <see cref="QwenImageModel"/>), as the step engine uses it: text encoding, velocity prediction on packed latents,
/// decoding, and named adapters on the transformer routed per sample. On one device in one precision (text encoders
/// possibly apart); its tensor methods must be called from the thread that owns the model.
/// </summary>
public abstract class DiffusionModel : IDisposable
{
    readonly List<string> _adapters = [];
    readonly Dictionary<string, AttachedAdapter> _attached = new(StringComparer.Ordinal);
    long _mergedCacheBudgetBytes = new EngineOptions().MergedAdapterCacheMiB * 1024L * 1024L;

    protected DiffusionModel(Device device, ScalarType dtype, (Device Device, ScalarType DType)? textEncoders)
    {
        Device = device ?? throw new ArgumentNullException(nameof(device));
        DType = dtype;
        (TextDevice, TextDType) = textEncoders ?? (device, dtype);
    }

    public abstract ModelProfile Profile { get; }

    public Device Device { get; }
    public ScalarType DType { get; }

    /// <summary>Where the text encoders run (the model's device unless configured apart); their outputs move to <see cref="Device"/>.</summary>
    public Device TextDevice { get; }
    public ScalarType TextDType { get; }

    /// <summary>The transformer, whose <see cref="LoraLinear"/> layers carry the adapters.</summary>
    public abstract nn.Module Denoiser { get; }

    /// <summary>The routing every adapter layer of <see cref="Denoiser"/> shares.</summary>
    public abstract AdapterRouting Routing { get; }

    /// <summary>Names of the adapters attached to the transformer.</summary>
    public IReadOnlyList<string> Adapters => _adapters;

    /// <summary>Where an adapter file's module name lands in <see cref="Denoiser"/> (null: the name is not one of its modules).</summary>
    protected abstract ModuleSlice? ResolveAdapterTarget(string moduleName);

    /// <summary>What each attached adapter file holds and the scale applied to it, by adapter name (logs, engine description).</summary>
    public IReadOnlyDictionary<string, string> AdapterNotes => _attached.ToDictionary(kv => kv.Key, kv => kv.Value.Note, StringComparer.Ordinal);

    /// <summary>The adapters attached from files, by name (trainable adapters are not listed).</summary>
    public IReadOnlyDictionary<string, AttachedAdapter> AttachedAdapters => _attached;

    /// <summary>
    /// Attaches an adapter file (PEFT/diffusers or kohya layout) to the transformer under a name. Every module of the
    /// file must land on a layer of the transformer (the error names the key that does not).
    /// </summary>
    /// <param name="scaleOverride">The scale applied to every module instead of alpha / rank.</param>
    /// <param name="scaleWithoutAlpha">The scale for modules the file gives no alpha; null: the family's
    /// <see cref="ModelProfile.AdapterScaleWithoutAlpha"/>.</param>
    public void AttachAdapter(string name, string path, double? scaleOverride = null, double? scaleWithoutAlpha = null)
    {
        if (_adapters.Contains(name)) throw new InvalidOperationException($"An adapter named '{name}' is already attached.");
        using var file = LoraFile.Read(path);
        double missingAlpha = scaleWithoutAlpha ?? Profile.AdapterScaleWithoutAlpha;
        var applied = LoraAttacher.Attach(Denoiser, name, file, ResolveAdapterTarget, scaleOverride, missingAlpha);
        _adapters.Add(name);
        _attached[name] = Describe(file, applied, scaleOverride, missingAlpha);
        UpdateMergedWeightCache();
    }

    static AttachedAdapter Describe(LoraAdapterFile file, IReadOnlyDictionary<string, double> applied, double? scaleOverride, double missingAlpha)
    {
        long[] ranks = [.. file.Entries.Select(e => e.Rank).Distinct().Order()];
        double[] scales = [.. applied.Values.Distinct().Order()];
        string why = scaleOverride is not null || file.ScaleOverride is not null ? "explicit scale"
            : file.AlphaDefaulted ? $"the file carries no alpha; scale for such files: {missingAlpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
            : "alpha / rank from the file";
        string note = $"{Path.GetFileName(file.Path)}: {applied.Count} modules, rank {string.Join("/", ranks)}, " +
            $"scale {string.Join("/", scales.Select(v => v.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)))} ({why})";
        return new AttachedAdapter(file.Path, applied.Count, ranks, scales, new FileInfo(file.Path).Length, note);
    }

    /// <summary>
    /// Attaches a fresh trainable adapter (down random, up zero) on the given transformer modules, named as an adapter
    /// file names them (for FLUX a diffusers to_q trains the query rows of the fused qkv and is saved under its own name).
    /// </summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> AddTrainableAdapter(string name, IEnumerable<string> targets, int rank, double alpha, long seed)
    {
        if (_adapters.Contains(name)) throw new InvalidOperationException($"An adapter named '{name}' is already attached.");
        var parameters = LoraAttacher.CreateTrainable(Denoiser, name, targets, rank, alpha, seed, ResolveAdapterTarget);
        _adapters.Add(name);
        UpdateMergedWeightCache();
        return parameters;
    }

    /// <summary>The family's Glance adapter recipe (rank, alpha, rate, steps, targets) for training on one pair.</summary>
    public abstract Training.TrainingRecipe TrainingRecipe { get; }

    /// <summary>The transformer modules of a named target set ("attention" or "broad"), as adapter files name them.</summary>
    public abstract IReadOnlyList<string> AdapterTargets(string targetSet);

    public void DetachAdapter(string name)
    {
        if (!_adapters.Remove(name)) return;
        _attached.Remove(name);
        LoraAttacher.Detach(Denoiser, name);
        UpdateMergedWeightCache();
    }

    /// <summary>Whether phase-uniform batches use cached merged weights (see <see cref="EngineOptions.MergedAdapterCacheMiB"/>).</summary>
    public bool UsesMergedWeightCache { get; private set; }

    void UpdateMergedWeightCache()
    {
        var layers = LoraLayers.Of(Denoiser).Values.ToArray();
        long needed = layers.Sum(l => l.MergedWeightBytes * l.AdapterNames.Count);
        UsesMergedWeightCache = needed > 0 && needed <= _mergedCacheBudgetBytes;
        foreach (var layer in layers) layer.CacheMergedWeights = UsesMergedWeightCache && layer.AdapterNames.Count > 0;
    }

    internal long MergedCacheBudgetBytes
    {
        set => _mergedCacheBudgetBytes = value;
    }

    /// <summary>Encodes prompts in one batch, on <see cref="Device"/> in <see cref="DType"/>.</summary>
    public abstract TextConditioning EncodeText(IReadOnlyList<string> prompts);

    /// <summary>The encoders that would cut this text, with its token count and what they keep (no tensors involved).</summary>
    public abstract IReadOnlyList<PromptTruncation> Truncations(string field, string text);

    /// <summary>The text encoders and the prompt tokens each reads (the model catalog shows them).</summary>
    public virtual IReadOnlyList<PromptTokenLimit> PromptTokenLimits => [];

    /// <summary>Prompts of the model's own folder (glance-mini's examples.txt); null: the family's built-in list.</summary>
    public IReadOnlyList<string>? ExamplePrompts { get; protected init; }

    /// <summary>Velocity prediction (float32) for packed latents [B, L, C] at per-sample sigmas [B].</summary>
    /// <param name="guidance">Per-sample distilled guidance scales [B] when <see cref="ModelProfile.DistilledGuidance"/>.</param>
    public abstract Tensor PredictVelocity(Tensor packedLatents, Tensor sigmas, TextConditioning text, int width, int height, Tensor? guidance = null);

    /// <summary>The sampler's latents [B, C, h, w] (model dtype) to images [B, 3, H, W], about [-1, 1].</summary>
    protected abstract Tensor DecodeLatents(Tensor latents);

    /// <summary>Images [B, 3, H, W] in [-1, 1] (model dtype) to the sampler's latents [B, C, h, w] (the posterior mean).</summary>
    protected abstract Tensor EncodeImages(Tensor images);

    /// <summary>Initial noise [L, C] (packed, float32) drawn from the seed alone, identical on every device and batch.</summary>
    public Tensor Noise(long seed, int width, int height)
    {
        using var scope = NewDisposeScope();
        var (latentH, latentW) = LatentSize(width, height);
        using var generator = new Generator((ulong)seed, CPU);
        var noise = randn([1, Profile.LatentChannels, latentH, latentW], dtype: ScalarType.Float32, device: CPU, generator: generator);
        return LatentPacking.Pack(noise).squeeze(0).to(Device).MoveToOuterDisposeScope();
    }

    /// <summary>Packed latents [B, L, C] to 8-bit RGB images [B, H, W, 3] on the CPU.</summary>
    public Tensor DecodeToRgb(Tensor packedLatents, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(packedLatents);
        using var scope = NewDisposeScope();
        var (latentH, latentW) = LatentSize(width, height);
        var latents = LatentPacking.Unpack(packedLatents.to(DType), latentH, latentW);
        var images = DecodeLatents(latents).to(ScalarType.Float32).Clamped(-1, 1);
        var rgb = images.Plus(1.0).Times(127.5).round().to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().cpu();
        return rgb.MoveToOuterDisposeScope();
    }

    /// <summary>Images [B, 3, H, W] in [-1, 1] to packed latents [B, L, C] (float32), using the latent mean.</summary>
    public Tensor EncodeToLatents(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        var latents = EncodeImages(images.to(Device).to(DType));
        return LatentPacking.Pack(latents).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public (int LatentH, int LatentW) LatentSize(int width, int height)
    {
        int cell = Profile.PixelsPerToken;
        if (width % cell != 0 || height % cell != 0)
            throw new ArgumentException($"Width and height must be multiples of {cell}; received {width}x{height}.");
        int f = Profile.DownsampleFactor;
        return (height / f, width / f);
    }

    /// <summary>Packed image tokens for a resolution, as used by dynamic schedule shifting.</summary>
    public int ImageSeqLen(int width, int height) => width / Profile.PixelsPerToken * (height / Profile.PixelsPerToken);

    /// <summary>Disposes the networks (<see cref="DisposeModules"/>) and hands host memory back.</summary>
    public void Dispose()
    {
        DisposeModules();
        HostMemory.Release();
        GC.SuppressFinalize(this);
    }

    protected abstract void DisposeModules();
}

/// <summary>An adapter file attached to a model: where it came from, how many modules it adapts, its ranks and the scales applied.</summary>
public sealed record AttachedAdapter(string File, int Modules, IReadOnlyList<long> Ranks, IReadOnlyList<double> Scales, long Bytes, string Note);
