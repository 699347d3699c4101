using System.Text.RegularExpressions;
using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.Qwen;

/// <summary>
/// Key mapping of a diffusers AutoencoderKLQwenImage checkpoint (vae/diffusion_pytorch_model.safetensors) into
/// <see cref="QwenImageAutoencoder"/>, whose state dict has exactly the checkpoint's keys and shapes: the identity on
/// every key of the architecture's grammar, null on any other key so that the loader fails naming it and its file.
/// A well-formed key that this config lacks (a block beyond it) maps to a target the module does not have, which the
/// loader reports in the same way; shapes are checked there too.
/// </summary>
public static partial class QwenImageAutoencoderCheckpointNames
{
    // resnet:    norm1|norm2 .gamma, conv1|conv2|conv_shortcut .weight|.bias
    // attention: norm.gamma, to_qkv|proj .weight|.bias
    // resample:  resample.1 .weight|.bias, time_conv .weight|.bias
    const string Resnet = @"(?:norm[12]\.gamma|(?:conv[12]|conv_shortcut)\.(?:weight|bias))";
    const string Attention = @"(?:norm\.gamma|(?:to_qkv|proj)\.(?:weight|bias))";
    const string Resample = @"(?:(?:resample\.1|time_conv)\.(?:weight|bias))";
    const string Pattern =
        @"^(?:"
        + @"(?:quant_conv|post_quant_conv)\.(?:weight|bias)"
        + @"|(?:encoder|decoder)\.(?:conv_in|conv_out)\.(?:weight|bias)"
        + @"|(?:encoder|decoder)\.norm_out\.gamma"
        + @"|(?:encoder|decoder)\.mid_block\.(?:resnets\.\d+\." + Resnet + @"|attentions\.\d+\." + Attention + ")"
        + @"|encoder\.down_blocks\.\d+\.(?:" + Resnet + "|" + Attention + "|" + Resample + ")"
        + @"|decoder\.up_blocks\.\d+\.(?:resnets\.\d+\." + Resnet + @"|upsamplers\.0\." + Resample + ")"
        + @")$";

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex KnownKey();

    /// <summary>The identity placement for a key of the architecture; null for an unknown key.</summary>
    public static IReadOnlyList<TensorPlacement>? Map(string key, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(shape);
        return KnownKey().IsMatch(key) ? [new TensorPlacement(key)] : null;
    }

    /// <summary>Names the layout in the loader's errors.</summary>
    public const string Format = "diffusers AutoencoderKLQwenImage";
}
