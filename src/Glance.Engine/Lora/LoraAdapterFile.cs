using Glance.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>Key layout of an adapter file.</summary>
public enum LoraFileLayout
{
    /// <summary>PEFT / diffusers: &lt;module&gt;.lora_A.weight and &lt;module&gt;.lora_B.weight.</summary>
    Peft,

    /// <summary>kohya: &lt;module&gt;.lora_down.weight, .lora_up.weight and a scalar .alpha.</summary>
    Kohya,
}

/// <summary>Where a module's alpha came from; <see cref="DefaultedToRank"/> means the file did not say.</summary>
public enum LoraAlphaSource
{
    ModuleTensor,
    Metadata,
    DefaultedToRank,
}

/// <summary>
/// One adapted module of a file.
/// </summary>
/// <param name="FileModule">The module as the file spells it, prefix included (what a save writes back).</param>
/// <param name="Module">The module with container prefixes ("transformer.", "lora_unet_", ...) removed; what resolvers see.</param>
/// <param name="Down">lora_A / lora_down, [rank, in].</param>
/// <param name="Up">lora_B / lora_up, [out, rank].</param>
public sealed record LoraFileEntry(
    string FileModule, string Module, LoraFileLayout Layout, Tensor Down, Tensor Up, double Alpha, LoraAlphaSource AlphaSource)
{
    public long Rank => Down.shape[0];

    public string DownKey => FileModule + (Layout == LoraFileLayout.Peft ? ".lora_A.weight" : ".lora_down.weight");

    public string UpKey => FileModule + (Layout == LoraFileLayout.Peft ? ".lora_B.weight" : ".lora_up.weight");

    /// <summary>The multiplier of up(down(x)): an explicit override when given, else alpha / rank.</summary>
    public double ScaleWith(double? scaleOverride) => scaleOverride ?? Alpha / Rank;

    /// <summary>
    /// As <see cref="ScaleWith(double?)"/>, with <paramref name="scaleWithoutAlpha"/> standing in for alpha / rank
    /// when the file did not give this module an alpha (a file trained with alpha = 4 x rank but saved without it).
    /// </summary>
    public double ScaleWith(double? scaleOverride, double? scaleWithoutAlpha) =>
        scaleOverride ?? (AlphaSource == LoraAlphaSource.DefaultedToRank && scaleWithoutAlpha is { } missing ? missing : Alpha / Rank);
}

/// <summary>
/// An adapter file read into memory (CPU tensors in the file's dtype) with its header metadata.
/// Attaching copies the tensors, so the file can be disposed afterwards.
/// </summary>
public sealed class LoraAdapterFile : IDisposable
{
    readonly SafetensorsFile? _storage;

    public LoraAdapterFile(string path, IReadOnlyList<LoraFileEntry> entries, IReadOnlyDictionary<string, string> metadata, double? scaleOverride)
        : this(path, entries, metadata, scaleOverride, storage: null)
    {
    }

    internal LoraAdapterFile(string path, IReadOnlyList<LoraFileEntry> entries, IReadOnlyDictionary<string, string> metadata, double? scaleOverride, SafetensorsFile? storage)
    {
        Path = path;
        Entries = entries;
        Metadata = metadata;
        ScaleOverride = scaleOverride;
        _storage = storage;
    }

    public string Path { get; }

    public IReadOnlyList<LoraFileEntry> Entries { get; }

    /// <summary>The safetensors "__metadata__" map, as stored.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Scale applied instead of alpha / rank to every module, when set.</summary>
    public double? ScaleOverride { get; }

    /// <summary>True when some module's alpha was not in the file and defaulted to its rank (worth a warning).</summary>
    public bool AlphaDefaulted => Entries.Any(e => e.AlphaSource == LoraAlphaSource.DefaultedToRank);

    public void Dispose()
    {
        if (_storage is not null)
        {
            _storage.Dispose();
            return;
        }
        foreach (var entry in Entries)
        {
            entry.Down.Dispose();
            entry.Up.Dispose();
        }
    }
}
