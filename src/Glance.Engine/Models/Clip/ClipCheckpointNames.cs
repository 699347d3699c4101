using System.Text.RegularExpressions;
using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.Clip;

/// <summary>
/// Where the tensors of a transformers CLIPTextModel file (FLUX.1's text_encoder/model.safetensors) go in
/// <see cref="ClipTextModel"/>: the module uses the file's own names, so a known key maps to itself.
/// </summary>
public static partial class ClipCheckpointNames
{
    /// <summary>A buffer (arange of the positions) that older transformers versions saved; the model derives it.</summary>
    public const string PositionIdsKey = "text_model.embeddings.position_ids";

    static readonly HashSet<string> FixedKeys = new(StringComparer.Ordinal)
    {
        "text_model.embeddings.token_embedding.weight",
        "text_model.embeddings.position_embedding.weight",
        "text_model.final_layer_norm.weight",
        "text_model.final_layer_norm.bias",
    };

    /// <summary>
    /// The placement of one checkpoint tensor: itself for the model's own keys (any layer index; the loader checks that
    /// the layer exists and the shape fits), an empty list for <see cref="PositionIdsKey"/> (skipped on purpose), null
    /// for anything else, such as CLIPTextModelWithProjection's "text_projection.weight".
    /// </summary>
    public static IReadOnlyList<TensorPlacement>? MapHuggingFaceKey(string key, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(shape);
        if (key == PositionIdsKey) return [];
        return FixedKeys.Contains(key) || LayerKey().IsMatch(key) ? [new TensorPlacement(key)] : null;
    }

    [GeneratedRegex(@"^text_model\.encoder\.layers\.(0|[1-9][0-9]*)\.(self_attn\.(q_proj|k_proj|v_proj|out_proj)|layer_norm1|layer_norm2|mlp\.fc1|mlp\.fc2)\.(weight|bias)$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerKey();
}
