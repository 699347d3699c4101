using System.Text.RegularExpressions;
using Glance.Engine.Checkpoints;
using Glance.Engine.Lora;

namespace Glance.Engine.Models.Qwen;

/// <summary>
/// Qwen-Image weight names. <see cref="QwenImageTransformer"/>'s state dict uses diffusers' names unchanged, so a
/// diffusers checkpoint (transformer/diffusion_pytorch_model-*.safetensors) maps key for key, and an adapter's module
/// names are the model's linear layers.
/// </summary>
public static partial class QwenImageCheckpointNames
{
    /// <summary>Names the layout in loader errors.</summary>
    public const string Format = "diffusers QwenImageTransformer2DModel";

    /// <summary>The prefix diffusers puts before the transformer's modules in adapter files.</summary>
    public const string DiffusersPrefix = "transformer.";

    /// <summary>
    /// The placement of a diffusers checkpoint tensor: itself, for every parameter name QwenImageTransformer2DModel has;
    /// null (unknown: the loader fails naming key and file) for anything else. Shapes and block counts are checked by
    /// the loader against the model.
    /// </summary>
    public static IReadOnlyList<TensorPlacement>? Map(string key, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ParameterKey().IsMatch(key) ? [new TensorPlacement(key)] : null;
    }

    /// <summary>
    /// The linear layer an adapter module names ("transformer_blocks.3.attn.to_q", "img_in", ...; with or without the
    /// "transformer." prefix, which <see cref="LoraAttacher"/> removes already), all of its rows; null for a name that
    /// is not a linear layer of QwenImageTransformer2DModel.
    /// </summary>
    public static ModuleSlice? MapAdapterModule(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        string name = module.StartsWith(DiffusersPrefix, StringComparison.Ordinal) ? module[DiffusersPrefix.Length..] : module;
        return LinearModule().IsMatch(name) ? new ModuleSlice(name) : null;
    }

    const string BlockLinears =
        @"transformer_blocks\.\d+\.(img_mod\.1|txt_mod\.1|attn\.(to_q|to_k|to_v|add_q_proj|add_k_proj|add_v_proj|to_out\.0|to_add_out)|(img|txt)_mlp\.net\.(0\.proj|2))";

    const string TopLinears = @"img_in|txt_in|time_text_embed\.timestep_embedder\.linear_[12]|norm_out\.linear|proj_out";

    [GeneratedRegex("^(" + TopLinears + "|" + BlockLinears + ")$")]
    private static partial Regex LinearModule();

    [GeneratedRegex("^((" + TopLinears + "|" + BlockLinears + @")\.(weight|bias)|txt_norm\.weight|transformer_blocks\.\d+\.attn\.norm_(q|k|added_q|added_k)\.weight)$")]
    private static partial Regex ParameterKey();
}
