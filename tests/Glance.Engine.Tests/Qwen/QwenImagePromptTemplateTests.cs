using Glance.Engine.Text;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// Qwen-Image's prompt template (diffusers' pipeline_qwenimage.py, QwenImagePipeline.__init__ and
/// _get_qwen_prompt_embeds): its text, and with the real tokenizer the pipeline's constant drop of 34 tokens.
/// </summary>
public sealed class QwenImagePromptTemplateTests
{
    [Fact]
    public void FormatPutsThePromptVerbatimBetweenTheUserAndAssistantTurns()
    {
        // str.format parses the template only: braces in the prompt stay.
        string text = QwenImagePromptTemplate.Format("a {red} cat");
        Assert.StartsWith("<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, spatial relationships of the objects and background:<|im_end|>\n", text, StringComparison.Ordinal);
        Assert.EndsWith("<|im_start|>user\na {red} cat<|im_end|>\n<|im_start|>assistant\n", text, StringComparison.Ordinal);
        Assert.Equal(QwenImagePromptTemplate.Prefix + "a {red} cat" + QwenImagePromptTemplate.Suffix, text);
        Assert.Equal((34, 1024, 1058, 512), (QwenImagePromptTemplate.DroppedTokens, QwenImagePromptTemplate.MaxPromptTokens, QwenImagePromptTemplate.MaxTokens, QwenImagePromptTemplate.DefaultMaxSequenceLength));
    }

    [RealQwen2TokenizerFact]
    public void TheTemplatePrefixIsTheThirtyFourTokensThePipelineDrops()
    {
        var tokenizer = Qwen2Fixtures.Tokenizer;
        Assert.Equal(34, QwenImagePromptTemplate.CountPrefixTokens(tokenizer));
        QwenImagePromptTemplate.CheckDroppedTokens(tokenizer);

        // The prefix is the system turn then "<|im_start|>user\n": it ends with 151644, "user", "\n" (198).
        var prefix = tokenizer.Encode(QwenImagePromptTemplate.Prefix);
        Assert.Equal([151644, 8948, 198], prefix.Take(3));
        Assert.Equal((151645, 198, 151644, "user", 198), (prefix[^5], prefix[^4], prefix[^3], tokenizer.Decode([prefix[^2]]), prefix[^1]));
    }

    [RealQwen2TokenizerFact]
    public void AfterTheDropComeThePromptsTokensThenTheOpenAssistantTurn()
    {
        var tokenizer = Qwen2Fixtures.Tokenizer;
        const string prompt = "A lighthouse on a cliff at dawn, watercolor.";
        var (ids, count) = QwenImagePromptTemplate.Encode(tokenizer, prompt);
        var suffix = tokenizer.Encode(QwenImagePromptTemplate.Suffix);

        Assert.Equal(ids.Count, count);
        Assert.Equal(tokenizer.Encode(QwenImagePromptTemplate.Prefix), ids.Take(34));
        Assert.Equal(tokenizer.Encode(prompt), ids.Skip(34).Take(ids.Count - 34 - suffix.Count));
        Assert.Equal((151645, 198, 151644, "assistant", 198), (suffix[0], suffix[1], suffix[2], tokenizer.Decode([suffix[3]]), suffix[4]));
        Assert.Equal(suffix, ids.TakeLast(5));
    }

    [RealQwen2TokenizerFact]
    public void TheBlankNegativePromptKeepsOneSpaceTokenBeforeTheClosingTurn()
    {
        // true CFG's negative prompt " ": the space is a piece of its own (the added token after it ends the text).
        var tokenizer = Qwen2Fixtures.Tokenizer;
        var (ids, _) = QwenImagePromptTemplate.Encode(tokenizer, " ");
        Assert.Equal(new[] { 220 }.Concat(tokenizer.Encode(QwenImagePromptTemplate.Suffix)), ids.Skip(34));
    }

    [RealQwen2TokenizerFact]
    public void APromptStartingWithANewlineMergesIntoTheTemplatesLastToken()
    {
        // "user\n" + "\nA" gives "\n\n" (271) as token 34: the constant drop then takes the prompt's newline with it.
        var tokenizer = Qwen2Fixtures.Tokenizer;
        var (ids, _) = QwenImagePromptTemplate.Encode(tokenizer, "\nA cat");
        Assert.Equal(271, ids[33]);
        Assert.Equal(tokenizer.Encode("A cat"), ids.Skip(34).SkipLast(5));
    }

    [RealQwen2TokenizerFact]
    public void ALongPromptIsCutOnTheRightAtTenFiftyEightTokensClosingTurnFirst()
    {
        // truncation=True, max_length=1024 + 34: the cut falls in the prompt, so the assistant turn is gone.
        var tokenizer = Qwen2Fixtures.Tokenizer;
        string prompt = string.Join(" ", Enumerable.Repeat("cat", 1100));
        var (ids, count) = QwenImagePromptTemplate.Encode(tokenizer, prompt);
        Assert.Equal(34 + 1100 + 5, count);
        Assert.Equal(1058, ids.Count);
        Assert.Equal(tokenizer.Encode(prompt).Take(1024), ids.Skip(34));
        Assert.DoesNotContain(151645, ids.Skip(34));
    }
}
