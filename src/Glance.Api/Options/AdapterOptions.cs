using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>
/// Adapter sets served beside the configured default set: one folder per set under <see cref="Path"/> (a volume shared
/// by every replica in Kubernetes), holding slow.safetensors and/or fast.safetensors. Every replica attaches what it
/// finds there within <see cref="RescanSeconds"/> (a file watcher wakes it sooner), without restart.
/// </summary>
internal sealed class AdapterOptions
{
    public const string Section = "Glance:Adapters";

    /// <summary>The registry folder; unset: only the default set (Glance:Model:Adapters) is served.</summary>
    public string? Path { get; set; }

    /// <summary>Seconds between full rescans of the folder (the watcher alone can miss events on network volumes).</summary>
    [Range(1, 3600)]
    public int RescanSeconds { get; set; } = 5;

    /// <summary>The largest adapter file an upload may carry, in MiB (a rank-32 Qwen-Image LoRA on every block Linear is ~300 MiB in bfloat16).</summary>
    [Range(1, 16_384)]
    public int MaxFileMiB { get; set; } = 512;

    public long MaxFileBytes => MaxFileMiB * (1L << 20);

    /// <summary>The most the registry's sets may take together, in MiB: uploads beyond it are refused, and sets beyond it (in name order) are not attached.</summary>
    [Range(1, 1_048_576)]
    public int MaxTotalMiB { get; set; } = 8192;

    public long MaxTotalBytes => MaxTotalMiB * (1L << 20);

    /// <summary>The most sets attached at once (besides the default set); further sets are reported and skipped.</summary>
    [Range(1, 10_000)]
    public int MaxSets { get; set; } = 64;

    /// <summary>
    /// Device memory, in MiB, for the adapters' low-rank tensors (every set's, the default set's included); beyond it
    /// the least recently used adapters wait in host memory and come back for the step that needs them. Unset or 0:
    /// unlimited, every adapter stays on the device, as without this setting. That is the default because
    /// <see cref="MaxTotalMiB"/> already bounds what can be attached and adapters are small beside a model; set it
    /// where many sets would crowd a GPU's activations (a step's adapters are loaded even beyond it).
    /// </summary>
    [Range(0, 1_048_576)]
    public int? MaxResidentMiB { get; set; }
}
