using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.Qwen;

public sealed partial record QwenImageAutoencoderConfig
{
    const string DiffusersClassName = "AutoencoderKLQwenImage";

    /// <summary>config.json's name for each property, so that a refused value is named as the file writes it.</summary>
    static readonly Dictionary<string, string> FieldNames = new(StringComparer.Ordinal)
    {
        [nameof(BaseDim)] = "base_dim",
        [nameof(ZDim)] = "z_dim",
        [nameof(DimMult)] = "dim_mult",
        [nameof(NumResBlocks)] = "num_res_blocks",
        [nameof(AttnScales)] = "attn_scales",
        [nameof(TemperalDownsample)] = "temperal_downsample",
        [nameof(LatentsMean)] = "latents_mean",
        [nameof(LatentsStd)] = "latents_std",
    };

    /// <summary>
    /// The autoencoder described by a diffusers <c>AutoencoderKLQwenImage</c> config.json (vae/config.json of a
    /// Qwen-Image snapshot).
    /// <list type="bullet">
    /// <item>Read: base_dim, z_dim, dim_mult, num_res_blocks, attn_scales, temperal_downsample, latents_mean,
    /// latents_std. Absent fields take the class's constructor defaults, which are <see cref="QwenImage"/>'s values
    /// (96, 16, [1, 2, 4, 4], 2, [], [false, true, true] and its 16 means and deviations).</item>
    /// <item>input_channels must be 3 (absent means 3); dropout is type-checked and ignored (inactive at inference).</item>
    /// <item>Refused, as <see cref="InvalidDataException"/> naming the file, the field, the value and what is expected:
    /// a _class_name other than AutoencoderKLQwenImage, fields of the wrong type (a JSON null included, which the
    /// class cannot take either), and values <see cref="Validate"/> refuses (temperal_downsample not one entry shorter
    /// than dim_mult, latents_mean / latents_std not z_dim values long, a non-positive standard deviation, ...).</item>
    /// </list>
    /// Unknown fields (_diffusers_version, _name_or_path, ...) are ignored.
    /// </summary>
    public static QwenImageAutoencoderConfig FromDiffusers(string configJsonPath)
    {
        var defaults = QwenImage;
        var f = JsonConfigFile.Read(configJsonPath, nullIsAbsent: false);
        string? className = f.Text("_class_name", null);
        if (className is not null && className != DiffusersClassName)
            throw f.Unsupported("_class_name", className, $"supported: \"{DiffusersClassName}\"");
        int inputChannels = f.Whole("input_channels", ImageChannels);
        if (inputChannels != ImageChannels) throw f.Unsupported("input_channels", inputChannels, $"supported: {ImageChannels} (RGB images)");
        _ = f.Number("dropout", 0.0);

        var config = new QwenImageAutoencoderConfig(
            BaseDim: f.Whole("base_dim", defaults.BaseDim),
            ZDim: f.Whole("z_dim", defaults.ZDim),
            DimMult: f.Integers("dim_mult", defaults.DimMult)!,
            NumResBlocks: f.Whole("num_res_blocks", defaults.NumResBlocks),
            AttnScales: f.Numbers("attn_scales", defaults.AttnScales)!,
            TemperalDownsample: f.Bools("temperal_downsample", defaults.TemperalDownsample)!,
            LatentsMean: f.Numbers("latents_mean", defaults.LatentsMean)!,
            LatentsStd: f.Numbers("latents_std", defaults.LatentsStd)!);
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            string field = e.ParamName is { } name && FieldNames.TryGetValue(name, out var json) ? $" (field \"{json}\")" : "";
            throw new InvalidDataException($"'{f.Path}' describes an autoencoder that cannot be built{field}: {e.Message}", e);
        }
        return config;
    }
}
