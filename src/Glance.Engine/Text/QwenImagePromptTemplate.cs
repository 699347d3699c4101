namespace Glance.Engine.Text;

/// <summary>
/// The text-to-image prompt template of diffusers' QwenImagePipeline (pipeline_qwenimage.py,
/// prompt_template_encode / prompt_template_encode_start_idx / tokenizer_max_length) and what the pipeline does with it:
/// <list type="number">
/// <item>Each prompt is put into the template (Python's str.format on the template only, so braces in the prompt stay
/// as they are): a system turn asking for a detailed image description, the prompt as the user turn, and an open
/// assistant turn.</item>
/// <item>The texts are tokenised together with max_length = 1024 + 34, padding=True, truncation=True: padded with
/// &lt;|endoftext|&gt; to the batch's longest (on the right: the tokenizer's default side, which Qwen-Image's
/// tokenizer_config.json does not change) and cut on the right at 1058 tokens. The cut takes the template's closing
/// "&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n" (5 tokens) first: a prompt of more than 1019 tokens loses it, and
/// beyond 1024 tokens its own tail too. No BOS or EOS is added.</item>
/// <item>The Qwen2.5-VL text model runs on the ids with the attention mask; the pipeline takes hidden_states[-1] (after
/// the final norm), keeps each prompt's unmasked positions, drops the first 34 of them (the system turn and
/// "&lt;|im_start|&gt;user\n"), and right-pads the rest with zeros to the batch's longest, with a 1/0 mask.</item>
/// <item>encode_prompt then cuts the embeddings to max_sequence_length (after the drop): 1024 at most
/// (check_inputs rejects more), 512 by default in __call__; the mask is dropped when it is all ones.</item>
/// </list>
/// </summary>
public static class QwenImagePromptTemplate
{
    /// <summary>prompt_template_encode; "{}" is where the prompt goes.</summary>
    public const string Template =
        "<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, spatial " +
        "relationships of the objects and background:<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n";

    /// <summary>prompt_template_encode_start_idx: how many leading tokens' hidden states the pipeline drops.</summary>
    public const int DroppedTokens = 34;

    /// <summary>tokenizer_max_length: the most tokens the pipeline keeps after the dropped ones.</summary>
    public const int MaxPromptTokens = 1024;

    /// <summary>The tokenizer's max_length: the most tokens of a templated prompt the encoder sees.</summary>
    public const int MaxTokens = MaxPromptTokens + DroppedTokens;

    /// <summary>__call__'s default max_sequence_length: the embeddings are cut to this many tokens after the drop.</summary>
    public const int DefaultMaxSequenceLength = 512;

    const string Slot = "{}";

    /// <summary>The template's text before the prompt: the part whose tokens are dropped.</summary>
    public static string Prefix => Template[..Template.IndexOf(Slot, StringComparison.Ordinal)];

    /// <summary>The template's text after the prompt: "&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n".</summary>
    public static string Suffix => Template[(Template.IndexOf(Slot, StringComparison.Ordinal) + Slot.Length)..];

    /// <summary>The full text the tokenizer receives for <paramref name="prompt"/>.</summary>
    public static string Format(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return Prefix + prompt + Suffix;
    }

    /// <summary>The number of tokens <paramref name="tokenizer"/> makes of <see cref="Prefix"/>: what the drop count stands for.</summary>
    public static int CountPrefixTokens(Qwen2Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return tokenizer.Encode(Prefix).Count;
    }

    /// <summary>
    /// Fails unless <paramref name="tokenizer"/> makes exactly <see cref="DroppedTokens"/> tokens of the template's prefix,
    /// as the pipeline's constant assumes: with a tokenizer that disagrees the drop would cut into the prompt or leave
    /// template tokens in.
    /// </summary>
    public static void CheckDroppedTokens(Qwen2Tokenizer tokenizer)
    {
        int count = CountPrefixTokens(tokenizer);
        if (count != DroppedTokens)
            throw new InvalidDataException(
                $"The Qwen-Image template's prefix (system turn and \"<|im_start|>user\\n\") is {count} tokens with this tokenizer; " +
                $"QwenImagePipeline drops {DroppedTokens}, so this is not Qwen-Image's Qwen2 tokenizer.");
    }

    /// <summary>
    /// The ids the encoder receives for one prompt, as the pipeline tokenises it alone (no padding): the templated
    /// text's ids cut on the right to <see cref="MaxTokens"/>, and how many there were before the cut.
    /// </summary>
    public static (IReadOnlyList<int> Ids, int TokenCount) Encode(Qwen2Tokenizer tokenizer, string prompt)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var ids = tokenizer.Encode(Format(prompt));
        return (ids.Count > MaxTokens ? ids.Take(MaxTokens).ToList() : ids, ids.Count);
    }
}
