using Glance.Engine.Text;

namespace Glance.Engine.Tests.T5;

/// <summary>
/// The real T5 v1.1 tokenizer (FLUX.1's tokenizer_2) against tokenizations published by transformers' T5 tests,
/// tests/models/t5/test_tokenization_t5.py (huggingface/transformers, read at commit 046eae0032b26be7ca49b4ec118bf7fa5a93785d).
/// Those use google-t5/t5-base, which has the same 32,000-piece vocabulary as google/t5-v1_1-xxl (tokenizer.json's
/// first 32,000 pieces and scores equal spiece.model's; the 100 extra ids follow). Every published sequence ends with
/// EOS = 1. Both files are checked: spiece.model directly and tokenizer.json through the ModelProto it is turned
/// back into.
/// </summary>
public sealed class T5PublishedTokenizationTests
{
    public static TheoryData<string, string, int[]> Published()
    {
        string[] files = [T5TokenizerFiles.SentencePieceFile, T5TokenizerFiles.HuggingFaceJsonFile];
        (string Text, int[] Ids)[] cases =
        [
            // test_prepare_batch, expected_src_tokens.
            ("A long paragraph for summarization.", [71, 307, 8986, 21, 4505, 1635, 1707, 5, 1]),
            // test_eos_in_input, expected_tgt_tokens for "Summary of the text. </s>"; test_eos_treatment pins that a
            // written "</s>" adds nothing to the tokens of the text before it.
            ("Summary of the text.", [20698, 13, 8, 1499, 5, 1]),
            // test_add_prefix_space, EXPECTED_WITH_SPACE (add_prefix_space=True, SentencePiece's add_dummy_prefix).
            ("Hey how are you doing", [9459, 149, 33, 25, 692, 1]),
            // test_tokenizer_integration (t5-base at revision 5a7ff2d8f5117c194c7e32ec1ccbf04642cca99b), the three
            // sequences of tokenizer_integration_test_util in tests/test_tokenization_common.py, padding removed.
            ("The quick brown fox jumps over the lazy dog.", [37, 1704, 4216, 3, 20400, 4418, 7, 147, 8, 19743, 1782, 5, 1]),
            (BertSentence, [272, 24203, 19, 876, 12, 554, 18, 9719, 1659, 2647, 26352, 6497, 7, 45, 73, 9339, 400, 26, 1499, 57, 22801, 10760, 30, 321, 646, 11, 269, 2625, 16, 66, 7500, 5, 1]),
            (TransformersSentence, TransformersIds),
        ];
        var data = new TheoryData<string, string, int[]>();
        foreach (string file in files)
        {
            foreach (var (text, ids) in cases) data.Add(file, text, ids);
        }
        return data;
    }

    const string BertSentence =
        "BERT is designed to pre-train deep bidirectional representations from unlabeled text by jointly conditioning on both left and right context in all layers.";

    const string TransformersSentence =
        "Transformers (formerly known as pytorch-transformers and pytorch-pretrained-bert) provides general-purpose architectures (BERT, GPT-2, RoBERTa, XLM, DistilBert, XLNet...) for Natural Language Understanding (NLU) and Natural Language Generation (NLG) with over 32+ pretrained models in 100+ languages and deep interoperability between Jax, PyTorch and TensorFlow.";

    // 111 pieces and EOS, as published.
    static readonly int[] TransformersIds =
    [
        31220, 7, 41, 14034, 801, 38, 3, 102, 63, 17, 127, 524, 18, 7031, 2032, 277, 11, 3, 102, 63, 17, 127, 524, 18, 2026, 17, 10761, 18, 7041, 61, 795, 879, 18, 19681, 4648, 7, 41, 12920, 382, 6, 350, 6383, 4949, 6, 2158, 12920, 382, 9, 6, 3, 4, 11160, 6, 2043, 17153, 279, 49, 17, 6, 3, 4, 434, 9688, 11439, 21, 6869, 10509, 17725, 41, 567, 9138, 61, 11, 6869, 10509, 11946, 41, 18207, 517, 61, 28, 147, 3538, 1220, 7140, 10761, 2250, 16, 910, 1220, 8024, 11, 1659, 1413, 32, 883, 2020, 344, 2215, 226, 6, 12901, 382, 127, 524, 11, 4738, 7, 127, 15390, 5, 1,
    ];

    [RealT5TokenizerTheory]
    [MemberData(nameof(Published))]
    public void IdsEqualTransformersPublishedTokenization(string file, string text, int[] expected)
    {
        Assert.Equal(expected, RealT5Tokenizer.Load(file).Encode(text));
    }

    /// <summary>
    /// Pad 0, EOS 1, and 32,000 producible ids from either file: tokenizer.json lists the 100 extra ids after the
    /// pieces, but as control pieces they never come out of text.
    /// </summary>
    [RealT5TokenizerTheory]
    [InlineData(T5TokenizerFiles.SentencePieceFile)]
    [InlineData(T5TokenizerFiles.HuggingFaceJsonFile)]
    public void SpecialIdsAreT5s(string file)
    {
        var tokenizer = RealT5Tokenizer.Load(file);
        Assert.Equal((0, 1, 32000), (tokenizer.PadId, tokenizer.EosId, tokenizer.VocabSize));
    }

    /// <summary>
    /// test_some_edge_cases: "" and " " tokenize to no pieces; T5's build_inputs_with_special_tokens still appends
    /// EOS, so FLUX's T5 input for an empty prompt starts [1, 0, 0, ...].
    /// </summary>
    [RealT5TokenizerTheory]
    [InlineData(T5TokenizerFiles.SentencePieceFile, "")]
    [InlineData(T5TokenizerFiles.HuggingFaceJsonFile, "")]
    [InlineData(T5TokenizerFiles.SentencePieceFile, " ")]
    [InlineData(T5TokenizerFiles.HuggingFaceJsonFile, " ")]
    public void TextWithoutPiecesIsEosAlone(string file, string text)
    {
        Assert.Equal([1], RealT5Tokenizer.Load(file).Encode(text));
    }

    /// <summary>
    /// FLUX.1 tokenises the T5 prompt with padding="max_length", max_length=512 (dev; 256 for schnell) and
    /// truncation: the pieces, EOS, then pad id 0 up to the length; the mask (which FLUX does not pass on) marks the
    /// pieces and EOS.
    /// </summary>
    [RealT5TokenizerTheory]
    [InlineData(T5TokenizerFiles.SentencePieceFile, 512)]
    [InlineData(T5TokenizerFiles.HuggingFaceJsonFile, 256)]
    public void FluxPadsWithZerosToMaxSequenceLength(string file, int length)
    {
        int[] published = [37, 1704, 4216, 3, 20400, 4418, 7, 147, 8, 19743, 1782, 5, 1];
        var batch = TokenBatch.Encode(RealT5Tokenizer.Load(file), ["The quick brown fox jumps over the lazy dog."], length);
        Assert.Equal([.. published.Select(i => (long)i), .. Enumerable.Repeat(0L, length - published.Length)], batch.Ids);
        Assert.Equal([.. Enumerable.Repeat(1L, published.Length), .. Enumerable.Repeat(0L, length - published.Length)], batch.Mask);
    }

    /// <summary>Truncation keeps max_length - 1 pieces and puts EOS last, as transformers' truncation with EOS added after.</summary>
    [RealT5TokenizerTheory]
    [InlineData(T5TokenizerFiles.SentencePieceFile)]
    [InlineData(T5TokenizerFiles.HuggingFaceJsonFile)]
    public void TruncationKeepsTheFirstPiecesAndEndsWithEos(string file)
    {
        const int length = 16;
        var batch = TokenBatch.Encode(RealT5Tokenizer.Load(file), [TransformersSentence], length);
        Assert.Equal([.. TransformersIds.Take(length - 1).Select(i => (long)i), 1L], batch.Ids);
        Assert.All(batch.Mask, m => Assert.Equal(1L, m));
    }

    /// <summary>Prompts beyond the published ones (NFKC-folded characters, accents, runs of spaces, unknown emoji): both files agree.</summary>
    [RealT5TokenizerTheory]
    [InlineData("a photo of a cat wearing a ﬁne hat, ＵＨＤ, 8k")]
    [InlineData("  café   au lait\tsur la table  ")]
    [InlineData("Ein Foto: ein Hund 🐕 im Schnee, «sehr» schön!")]
    [InlineData("<extra_id_0> and </s> written as text")]
    public void SpiecemodelAndTokenizerJsonGiveTheSameIds(string text)
    {
        var sentencePiece = RealT5Tokenizer.Load(T5TokenizerFiles.SentencePieceFile).Encode(text);
        Assert.Equal(sentencePiece, RealT5Tokenizer.Load(T5TokenizerFiles.HuggingFaceJsonFile).Encode(text));
        Assert.Equal(1, sentencePiece[^1]);
    }

    [RealT5TokenizerFact]
    public void TheFolderFactoryLoadsTheRealTokenizer()
    {
        var tokenizer = T5TokenizerFiles.Load(RealT5Tokenizer.Folder!);
        Assert.Equal([71, 307, 8986, 21, 4505, 1635, 1707, 5, 1], tokenizer.Encode("A long paragraph for summarization."));
    }
}
