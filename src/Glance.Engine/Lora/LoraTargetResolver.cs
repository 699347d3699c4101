namespace Glance.Engine.Lora;

/// <summary>
/// Resolves adapter module names that already name the model's layers: BFL state-dict paths
/// ("double_blocks.0.img_attn.qkv") and kohya's underscore spelling ("lora_unet_double_blocks_0_img_attn_qkv").
/// </summary>
public sealed class LoraTargetResolver
{
    readonly IReadOnlyDictionary<string, LoraLinear> _layers;
    readonly ILookup<string, string> _pathsByUnderscoreName;

    public LoraTargetResolver(IReadOnlyDictionary<string, LoraLinear> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = layers;
        _pathsByUnderscoreName = layers.Keys.ToLookup(Underscored, StringComparer.Ordinal);
    }

    /// <summary>The slice covering all rows of the named layer, or null when no layer has that name.</summary>
    /// <exception cref="InvalidOperationException">The underscore name fits more than one layer path.</exception>
    public ModuleSlice? Resolve(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (_layers.ContainsKey(module)) return new ModuleSlice(module);

        string underscored = Underscored(module.StartsWith(LoraKeyNames.KohyaUnetPrefix, StringComparison.Ordinal)
            ? module[LoraKeyNames.KohyaUnetPrefix.Length..]
            : module);
        var candidates = _pathsByUnderscoreName[underscored].ToList();
        return candidates.Count switch
        {
            0 => null,
            1 => new ModuleSlice(candidates[0]),
            _ => throw new InvalidOperationException(
                $"Adapter module '{module}' fits several layers once '.' is read as '_': {string.Join(", ", candidates)}."),
        };
    }

    static string Underscored(string path) => path.Replace('.', '_');
}
