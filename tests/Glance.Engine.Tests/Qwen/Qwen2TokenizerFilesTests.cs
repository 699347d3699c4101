using Glance.Engine.Text;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// The Qwen2 tokenizer on tiny files: transformers' own tiny-vocabulary cases (tests/models/qwen2/test_tokenization_qwen2.py,
/// commit 04bee35c8777d027a981e061f32fc12a1b3265d3), how added tokens are split out of the text, and the errors for
/// missing or malformed files, each naming the file and the field.
/// </summary>
public sealed class Qwen2TokenizerFilesTests
{
    [Fact]
    public void TinyVocabularyGivesTransformersPublishedIds()
    {
        // test_python_full_tokenizer: NFC (U+03D2 U+0301 is U+03D3), digits one by one (the "0 1" merge never applies),
        // ";}" taking its newline, and <|endoftext|> as its added id.
        using var files = Qwen2TestFiles.TransformersTiny();
        var tokenizer = Qwen2Tokenizer.Load(files.Folder);
        var ids = tokenizer.Encode("lower lower newer 010;}\n<|endoftext|>\u03d2\u0301");
        Assert.Equal([75, 78, 86, 260, 259, 260, 220, 77, 68, 86, 260, 220, 15, 16, 15, 266, 270, 267], ids);
        // get_input_output_texts: what those ids decode to.
        Assert.Equal("lower lower newer 010;}\n<|endoftext|>\u03d3", tokenizer.Decode(ids));
        // test_slow_tokenizer_token_with_number_sign.
        Assert.Equal([268, 269], tokenizer.Encode(" ###"));
    }

    [Fact]
    public void DecodeJoinsAddedTokensWithoutSpaces()
    {
        // test_slow_tokenizer_decode_spaces_between_special_tokens_default: spaces_between_special_tokens is False.
        using var files = Qwen2TestFiles.TransformersTiny();
        Assert.Equal(" lower<|endoftext|><|im_start|>;", Qwen2Tokenizer.Load(files.Folder).Decode([259, 260, 270, 271, 26]));
    }

    [Fact]
    public void AddedTokensAreSplitOutOfTheTextBeforeBpeAndNothingIsAppended()
    {
        using var files = Qwen2TestFiles.TransformersTiny((272, "<|im", true), (273, "<tool_call>", false));
        var tokenizer = Qwen2Tokenizer.Load(files.Folder);
        int Id(string text) => Assert.Single(tokenizer.Encode(text));

        // At the ends, back to back, and inside a word: the text around each is encoded on its own.
        Assert.Equal([271, 271], tokenizer.Encode("<|im_start|><|im_start|>"));
        Assert.Equal([75, 78, 86, 270, 260], tokenizer.Encode("low<|endoftext|>er"));
        Assert.Equal([271, 259, 260, 270], tokenizer.Encode("<|im_start|> lower<|endoftext|>"));
        // Where two start at the same place the longest wins; a token that is not "special" is matched all the same.
        Assert.Equal([272, Id("_"), Id("e"), Id("n"), Id("d")], tokenizer.Encode("<|im_end"));
        Assert.Equal([273, 271], tokenizer.Encode("<tool_call><|im_start|>"));
        // No BOS or EOS.
        Assert.Empty(tokenizer.Encode(""));
        Assert.Equal((271, 273, (int?)null), (tokenizer.IdOf("<|im_start|>"), tokenizer.IdOf("<tool_call>"), tokenizer.IdOf("er")));
        Assert.Equal((270, 274), (tokenizer.PadId, tokenizer.VocabSize));
    }

    [Fact]
    public void PadTokenDefaultsToEndOfTextLikeQwen2Tokenizer()
    {
        using var files = Qwen2TestFiles.TransformersTiny();
        files.WriteConfig([(270, "<|endoftext|>", true)], padToken: null);
        Assert.Equal(270, Qwen2Tokenizer.Load(files.Folder).PadId);
    }

    [Fact]
    public void LoadNamesAMissingFolderOrFile()
    {
        using var files = Qwen2TestFiles.TransformersTiny();
        string missing = Path.Combine(files.Folder, "absent");
        Assert.Contains(missing, Assert.Throws<DirectoryNotFoundException>(() => Qwen2Tokenizer.Load(missing)).Message, StringComparison.Ordinal);
        foreach (string name in (string[])["vocab.json", "merges.txt", "tokenizer_config.json"])
        {
            using var partial = Qwen2TestFiles.TransformersTiny();
            System.IO.File.Delete(partial.File(name));
            var error = Assert.Throws<FileNotFoundException>(() => Qwen2Tokenizer.Load(partial.Folder));
            Assert.Contains(partial.File(name), error.Message, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { """{"pad_token": "<|endoftext|>"}""", "\"added_tokens_decoder\"" },
        { """{"added_tokens_decoder": {}}""", "empty \"added_tokens_decoder\"" },
        { """{"added_tokens_decoder": {"x1": {"content": "<|endoftext|>"}}}""", "\"added_tokens_decoder\".\"x1\"" },
        { """{"added_tokens_decoder": {"270": {"special": true}}}""", "\"added_tokens_decoder\".\"270\" without a non-empty \"content\"" },
        { """{"added_tokens_decoder": {"270": {"content": "<|endoftext|>", "lstrip": true}}}""", "\"added_tokens_decoder\".\"270\".\"lstrip\"" },
        { """{"added_tokens_decoder": {"270": {"content": "<|a|>"}, "271": {"content": "<|a|>"}}}""", "'<|a|>' the ids 270 and 271" },
        { """{"added_tokens_decoder": {"270": {"content": "<|endoftext|>"}}, "pad_token": null}""", "\"pad_token\": null" },
        { """{"added_tokens_decoder": {"270": {"content": "<|endoftext|>"}}, "pad_token": "<pad>"}""", "\"pad_token\" '<pad>'" },
        { """{"added_tokens_decoder": {"7": {"content": "<|endoftext|>"}}}""", "id 7 is '('" },
        { """{"added_tokens_decoder": {"270": {"content": "er"}}}""", "'er' is id 260" },
        { """["added_tokens_decoder"]""", "expected an object" },
        { "{", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void LoadNamesTheConfigFileAndTheBadField(string config, string expected)
    {
        using var files = Qwen2TestFiles.TransformersTiny();
        System.IO.File.WriteAllText(files.File("tokenizer_config.json"), config);
        var error = Assert.Throws<InvalidDataException>(() => Qwen2Tokenizer.Load(files.Folder));
        Assert.Contains(files.File("tokenizer_config.json"), error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadNamesTheMergesLineThatIsNotAPair()
    {
        using var files = Qwen2TestFiles.TransformersTiny();
        System.IO.File.WriteAllText(files.File("merges.txt"), "#version: 0.2\ne r\nl o w\n");
        var error = Assert.Throws<InvalidDataException>(() => Qwen2Tokenizer.Load(files.Folder));
        Assert.Contains(files.File("merges.txt"), error.Message, StringComparison.Ordinal);
        Assert.Contains("line 3 is 'l o w'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadNamesAVocabularyThatIsNotATokenToIdObject()
    {
        using var files = Qwen2TestFiles.TransformersTiny();
        System.IO.File.WriteAllText(files.File("vocab.json"), """["a", "b"]""");
        var error = Assert.Throws<InvalidDataException>(() => Qwen2Tokenizer.Load(files.Folder));
        Assert.Contains(files.File("vocab.json"), error.Message, StringComparison.Ordinal);
        Assert.Contains("token to id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TemplateCheckFailsLoudlyForATokenizerThatIsNotQwenImages()
    {
        using var files = Qwen2TestFiles.TransformersTiny((272, "<|im_end|>", true));
        var tokenizer = Qwen2Tokenizer.Load(files.Folder);
        int count = QwenImagePromptTemplate.CountPrefixTokens(tokenizer);
        Assert.NotEqual(QwenImagePromptTemplate.DroppedTokens, count);
        var error = Assert.Throws<InvalidDataException>(() => QwenImagePromptTemplate.CheckDroppedTokens(tokenizer));
        Assert.Contains($"is {count} tokens", error.Message, StringComparison.Ordinal);
        Assert.Contains("drops 34", error.Message, StringComparison.Ordinal);
    }
}
