using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>
/// Which model and adapters the engine loads, by configured name and path; requests never name files.
/// Checked by the engine loader when the engine starts.
/// </summary>
internal sealed class ModelOptions
{
    public const string Section = "Glance:Model";

    /// <summary>Name reported to clients and accepted as the OpenAI "model" field.</summary>
    public string Name { get; set; } = Glance.Engine.Pipeline.ModelLocator.DefaultModel;

    /// <summary>
    /// Model folder: our own format, or an unmodified FLUX.1-dev / FLUX.1-schnell / Qwen-Image Hugging Face snapshot
    /// (detected by its model_index.json; for FLUX.1 diffusers subfolders, or the BFL single files at its root). When unset, the shipped model
    /// called <see cref="Name"/> (models/NAME beside the app).
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// Where the text encoders live: "model" (the transformer's device, the default) or another device such as "cpu", so
    /// that the GPU holds only the transformer and the autoencoder (FLUX.1's T5-XXL is 9.5 GB in bfloat16).
    /// </summary>
    public string TextEncoderDevice { get; set; } = Glance.Engine.Runtime.EngineOptions.ModelPlacement;

    /// <summary>The text encoders' precision: "model" (the default), "auto", "float32", "bfloat16" or "float16" (CUDA only).</summary>
    public string TextEncoderDType { get; set; } = Glance.Engine.Runtime.EngineOptions.ModelPlacement;

    /// <summary>
    /// Text tokens the transformer reads per prompt: FLUX.1's T5 tokens, 1 to 512 (unset: 512 for dev, 256 for schnell);
    /// Qwen-Image's tokens after its template's system block, up to 1024 (unset: 512, the pipeline's default).
    /// </summary>
    [Range(1, 1024)]
    public int? MaxSequenceLength { get; set; }

    /// <summary>Adapter name to its weights file: "slow" and "fast" (Adapters:Slow, Adapters:Fast) are Glance's two phases.</summary>
    public IDictionary<string, string> Adapters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Explicit LoRA scale for every adapter, overriding alpha / rank.</summary>
    public double? AdapterScale { get; set; }

    /// <summary>
    /// LoRA scale for adapter files that carry no alpha (alpha / rank is then unknown). Unset: the model family's default,
    /// 4 for Qwen-Image (the published Glance LoRAs were trained with alpha = 4 x rank and saved without alpha), 1
    /// (alpha = rank) for the others. The scale applied is logged per adapter at start-up.
    /// </summary>
    [Range(0.0, 1000.0)]
    public double? AdapterScaleWithoutAlpha { get; set; }

    /// <summary>
    /// Check at start-up, before any weight is read, that the model fits the memory each device has left (host: the
    /// smaller of MemAvailable and the cgroup limit's headroom; weights plus 1 GiB for loading), and refuse it with a
    /// message on /readyz when it does not. false for those who swap or overcommit on purpose.
    /// </summary>
    public bool CheckMemory { get; set; } = true;

    /// <summary>"auto", "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; set; } = "auto";

    /// <summary>"float32", "bfloat16", "float16" (CUDA only) or "auto" (bfloat16 on CUDA and on CPUs with native bfloat16, else float32).</summary>
    public string DType { get; set; } = "auto";

    /// <summary>
    /// libtorch intra-op CPU threads; unset keeps libtorch's default (one per core). On a small CPU shared with the
    /// HTTP server, fewer threads than cores trade some speed for a shorter latency tail (see docs/serving-benchmarks.md).
    /// </summary>
    [Range(1, 1024)]
    public int? Threads { get; set; }

    /// <summary>Encoded prompts the engine keeps for repeats (least recently used dropped first); 0 turns the cache off.</summary>
    [Range(0, 100_000)]
    public int PromptCacheEntries { get; set; } = new Glance.Engine.Runtime.EngineOptions().PromptCacheEntries;

    /// <summary>Memory on the model's device for those encodings, in MiB (one FLUX.1 prompt: ~4 MiB in bfloat16); 0 turns the cache off.</summary>
    [Range(0, 1_048_576)]
    public int PromptCacheMiB { get; set; } = new Glance.Engine.Runtime.EngineOptions().PromptCacheMiB;
}
