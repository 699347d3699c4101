namespace Glance.Engine.Runtime;

/// <summary>Where and in what precision the engine runs.</summary>
public sealed record EngineOptions
{
    /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";

    /// <summary>"float32", "bfloat16", "float16" (CUDA only) or "auto" (see <see cref="TorchRuntime.ResolveDType(string, TorchSharp.torch.Device)"/>).</summary>
    public string DType { get; init; } = "float32";

    /// <summary>
    /// Memory allowed for cached merged weights (one weight-sized tensor per adapter and adapted layer), which make
    /// phase-uniform batches run at merged-adapter speed. When the adapters of a model need more, the cache is off
    /// and every batch takes the routed low-rank path.
    /// </summary>
    public int MergedAdapterCacheMiB { get; init; } = 512;

    /// <summary>
    /// Memory, on the model's device, for the low-rank tensors of the adapters attached from files; beyond it the least
    /// recently used adapters wait in host memory until a step needs them (see <see cref="Lora.ResidentAdapters"/>).
    /// Unset or 0: unlimited, every adapter stays on the device.
    /// </summary>
    public int? MaxResidentAdapterMiB { get; init; }

    /// <summary>
    /// Where the text encoders (T5, and CLIP for FLUX.1) live: "model" (the transformer's device) or a device such as
    /// "cpu", so that a GPU holds only the transformer and the autoencoder; encodings move to the model's device.
    /// </summary>
    public string TextEncoderDevice { get; init; } = ModelPlacement;

    /// <summary>The text encoders' precision: "model" (the model's), or "auto", "float32", "bfloat16", "float16" as <see cref="DType"/>.</summary>
    public string TextEncoderDType { get; init; } = ModelPlacement;

    /// <summary>The value of <see cref="TextEncoderDevice"/> and <see cref="TextEncoderDType"/> meaning "as the model".</summary>
    public const string ModelPlacement = "model";

    /// <summary>
    /// Whether <c>ModelLoader.Load</c> first checks that the weights fit the memory each device has left (see
    /// <see cref="MemoryCheck"/>) and refuses the model with a message when they do not. Off for those who swap or
    /// overcommit on purpose.
    /// </summary>
    public bool CheckMemory { get; init; } = true;

    /// <summary>T5 tokens a FLUX.1 model reads (at most 512); unset: 512 for dev, 256 for schnell, as each was trained.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>
    /// Encoded prompts the engine keeps (least recently used dropped first), so that a repeated prompt (retries, seed
    /// sweeps, n &gt; 1) skips the text encoders; 0 turns the cache off. See <see cref="PromptCacheMiB"/>.
    /// </summary>
    public int PromptCacheEntries { get; init; } = 256;

    /// <summary>
    /// Memory, on the model's device, allowed for the encodings of <see cref="PromptCacheEntries"/> (tensor bytes; one
    /// FLUX.1 prompt is about 4 MiB in bfloat16, 8 MiB in float32); 0 turns the cache off.
    /// </summary>
    public int PromptCacheMiB { get; init; } = 64;
}
