using System.Text.RegularExpressions;
using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.T5;

/// <summary>How Hugging Face T5EncoderModel files (text_encoder_2 of a FLUX.1 snapshot) name <see cref="T5Encoder"/>'s weights.</summary>
public static partial class T5CheckpointNames
{
    /// <summary>The tied copy of shared.weight that T5EncoderModel files also hold.</summary>
    public const string TiedEmbeddingKey = "encoder.embed_tokens.weight";

    /// <summary>
    /// Placement of one checkpoint tensor: the encoder's own keys map to themselves (the module uses the file's names),
    /// <see cref="TiedEmbeddingKey"/> is skipped (an empty list: the weights come from shared.weight), and anything
    /// else is unknown (null): decoder and lm_head keys, and a relative position bias table outside block 0 (UMT5
    /// has one per layer; T5 shares block 0's). Shapes are left to the loader, which compares them with the module.
    /// A file that holds only the tied copy and no shared.weight therefore fails as missing shared.weight.
    /// </summary>
    public static IReadOnlyList<TensorPlacement>? MapHuggingFaceKey(string key, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(shape);
        if (key == TiedEmbeddingKey) return [];
        return key is "shared.weight" or "encoder.final_layer_norm.weight" || EncoderBlockKey().IsMatch(key)
            ? [new TensorPlacement(key)]
            : null;
    }

    // Block numbers without leading zeros, as the module's state dict writes them.
    [GeneratedRegex(@"^encoder\.block\.(?:0|[1-9][0-9]*)\.layer\.(?:0\.SelfAttention\.[qkvo]|[01]\.layer_norm|1\.DenseReluDense\.(?:wi_0|wi_1|wo))\.weight$|^encoder\.block\.0\.layer\.0\.SelfAttention\.relative_attention_bias\.weight$", RegexOptions.CultureInvariant)]
    private static partial Regex EncoderBlockKey();
}
