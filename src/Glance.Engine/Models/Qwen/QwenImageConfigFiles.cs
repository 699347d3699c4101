using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.Qwen;

/// <summary>A <see cref="QwenImageConfig"/> from a Qwen-Image download's transformer/config.json.</summary>
public static class QwenImageConfigFiles
{
    /// <summary>diffusers fixes the RoPE base; it is not in the file.</summary>
    public const double RopeTheta = 10_000;
    static readonly int[] RopeAxes = [16, 56, 56];

    /// <summary>
    /// diffusers QwenImageTransformer2DModel's config; absent fields take that class's defaults. out_channels null (or 0)
    /// means in_channels, as the class reads it. Variants this engine does not implement are refused naming the field:
    /// guidance_embeds, zero_cond_t, use_additional_t_cond and use_layer3d_rope must be false.
    /// </summary>
    /// <param name="transformerConfigJson">Path of the transformer/config.json file.</param>
    public static QwenImageConfig FromDiffusers(string transformerConfigJson)
    {
        var file = JsonConfigFile.Read(transformerConfigJson);
        string? className = file.Text("_class_name", null);
        if (className is not (null or "QwenImageTransformer2DModel"))
            throw file.Unsupported("_class_name", className, "expected \"QwenImageTransformer2DModel\"");
        foreach (string flag in (string[])["guidance_embeds", "zero_cond_t", "use_additional_t_cond", "use_layer3d_rope"])
        {
            if (file.Bool(flag, false))
                throw file.Unsupported(flag, true, "supported: false (Qwen-Image's text-to-image transformer)");
        }
        int inChannels = file.Whole("in_channels", 64);
        // diffusers: self.out_channels = out_channels or in_channels.
        int outChannels = file.Kind("out_channels") == System.Text.Json.JsonValueKind.Null ? inChannels : file.Whole("out_channels", 16);
        if (outChannels == 0) outChannels = inChannels;
        int headDim = file.Whole("attention_head_dim", 128);
        int[] axes = file.Integers("axes_dims_rope", RopeAxes)!;
        if (axes.Length != 3 || axes.Sum() != headDim)
            throw file.Unsupported("axes_dims_rope", axes, $"expected three RoPE sizes (frame, row, column) adding up to attention_head_dim ({headDim})");
        var config = new QwenImageConfig(
            PatchSize: file.Whole("patch_size", 2),
            InChannels: inChannels,
            OutChannels: outChannels,
            NumLayers: file.Whole("num_layers", 60),
            AttentionHeadDim: headDim,
            NumAttentionHeads: file.Whole("num_attention_heads", 24),
            JointAttentionDim: file.Whole("joint_attention_dim", 3584),
            AxesDimsRope: axes,
            Theta: RopeTheta,
            GuidanceEmbeds: false);
        try
        {
            return config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{transformerConfigJson}' describes a Qwen-Image transformer this engine cannot build: {e.Message}", e);
        }
    }
}
