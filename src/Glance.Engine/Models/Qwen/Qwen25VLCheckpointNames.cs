using System.Text.RegularExpressions;
using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.Qwen;

/// <summary>
/// Where the tensors of a Qwen2_5_VLForConditionalGeneration file (a Qwen-Image snapshot's text_encoder/) go in
/// <see cref="Qwen25VLTextModel"/>. The released files name the language model "model.*" (model.embed_tokens.weight,
/// model.layers.N.*, model.norm.weight) beside "visual.*" and "lm_head.weight"; files saved by transformers 4.52 and
/// later name it "model.language_model.*" beside "model.visual.*". Both map onto the module's names, which drop the
/// prefix.
/// </summary>
public static partial class Qwen25VLCheckpointNames
{
    /// <summary>The language model's prefixes, newer first so that "model.language_model." is not read as "model." + "language_model.".</summary>
    static readonly string[] LanguageModelPrefixes = ["model.language_model.", "model."];

    /// <summary>
    /// The placement of one checkpoint tensor: a language-model key under either prefix goes to the module's key
    /// without it (any layer index; the loader checks that the layer exists and the shape fits). The vision tower
    /// ("visual.*", "model.visual.*") and the output head ("lm_head.*") are skipped on purpose (an empty list): the
    /// text encoder needs only the final-norm hidden states. Anything else is unknown (null).
    /// </summary>
    public static IReadOnlyList<TensorPlacement>? Map(string key, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(shape);
        if (key.StartsWith("visual.", StringComparison.Ordinal) || key.StartsWith("model.visual.", StringComparison.Ordinal)
            || key.StartsWith("lm_head.", StringComparison.Ordinal))
        {
            return [];
        }
        foreach (string prefix in LanguageModelPrefixes)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string local = key[prefix.Length..];
            return local is "embed_tokens.weight" or "norm.weight" || LayerKey().IsMatch(local) ? [new TensorPlacement(local)] : null;
        }
        return null;
    }

    // Layer numbers without leading zeros, as the module's state dict writes them.
    [GeneratedRegex(@"^layers\.(?:0|[1-9][0-9]*)\.(?:self_attn\.(?:[qkv]_proj\.(?:weight|bias)|o_proj\.weight)|mlp\.(?:gate_proj|up_proj|down_proj)\.weight|(?:input_layernorm|post_attention_layernorm)\.weight)$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerKey();
}
