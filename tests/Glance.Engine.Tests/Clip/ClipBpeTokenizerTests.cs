using System.Text.Json;
using Glance.Engine.Text;

namespace Glance.Engine.Tests.Clip;

public class ClipBpeTokenizerTests
{
    const int Bos = 49406;
    const int Eos = 49407;

    /// <summary>
    /// Published tokenizations by the real CLIP tokenizer (every OpenAI CLIP checkpoint, ViT-L/14 included, shares this
    /// vocab.json and merges.txt). Each source is named next to its case.
    /// </summary>
    public static TheoryData<string, int[]> PublishedTokenizations => new()
    {
        // elixir-nx/bumblebee, test/bumblebee/text/clip_tokenizer_test.exs (commit b936792), HF openai/clip-vit-base-patch32.
        { "a photo of a cat", [49406, 320, 1125, 539, 320, 2368, 49407] },
        { "a photo of a dog", [49406, 320, 1125, 539, 320, 1929, 49407] },

        // apple/corenet, tests/data/text_tokenizer/test_openai_clip_tokenizer.py (commit 9effa1d), OpenAI's own tokenizer.
        { "the quick brown fox jumped over the lazy dog", [49406, 518, 3712, 2866, 3240, 16901, 962, 518, 10753, 1929, 49407] },

        // PaddlePaddle/PaddleNLP, fast_tokenizer/fast_tokenizer/test/test_clip_fast_tokenizer.cc (commit 29a7c99):
        // upper case, a newline, 'll and 'd, single digits, punctuation runs ("!!", "?'", "''") and a non-ASCII symbol.
        { "A\n'll 11p223RF☆ho!!to?'d'd''d of a cat", [49406, 320, 1342, 272, 272, 335, 273, 273, 274, 16368, 13439, 2971, 748, 531, 13610, 323, 1896, 8445, 323, 539, 320, 2368, 49407] },

        // aagdev/mlimgsynth, src/test_text_tokenize_clip.c (commit d25e2af); it lists the pieces, so BOS and EOS are added
        // here. Its "2025" and "Stable Diffusion ... 2022" cases are left out (it keeps digit runs whole, while CLIP's
        // pre-tokeniser splits single digits, as the PaddleNLP case shows) and so is its Japanese case (it does not
        // space CJK ideographs apart, which transformers' CLIPTokenizer does without ftfy).
        { "   a   dog\t\tjumping\r\n", [Bos, 320, 1929, 11476, Eos] },
        { "A'veA'llA's", [Bos, 320, 1200, 320, 1342, 320, 568, Eos] },
        { "a sign saying \"Here lies Cesar\"", [Bos, 320, 2292, 4455, 257, 763, 3205, 28603, 257, Eos] },
        { "a sign saying 'Here lies Cesar'", [Bos, 320, 2292, 4455, 262, 763, 3205, 28603, 262, Eos] },
        { "a dog, a house.", [Bos, 320, 1929, 267, 320, 1212, 269, Eos] },
        { "an illustration", [Bos, 550, 6052, Eos] },
        { "coraz\u00f3n", [Bos, 851, 854, 13926, Eos] },
        { "cat---dog-\u2014-rabbit", [Bos, 2368, 11079, 1929, 12, 6718, 268, 10274, Eos] },
        { "", [Bos, Eos] },
        { "  \t  \n", [Bos, Eos] },
    };

    [RealClipTokenizerTheory]
    [MemberData(nameof(PublishedTokenizations))]
    public void EncodesAsThePublishedClipTokenizations(string text, int[] expected)
    {
        Assert.Equal(expected, ClipFixtures.Tokenizer.Encode(text));
    }

    [RealClipTokenizerFact]
    public void SpecialTokenTextInAPromptBecomesTheSpecialId()
    {
        // transformers splits its special tokens out of the text before tokenising: "a" then <|endoftext|>.
        Assert.Equal([Bos, 320, Eos, Eos], ClipFixtures.Tokenizer.Encode("a<|endoftext|>"));
    }

    [RealClipTokenizerFact]
    public void SpecialIdsAreTheVocabularyEntriesThatFluxTokenizerConfigNames()
    {
        using var vocabulary = JsonDocument.Parse(System.IO.File.ReadAllText(ClipFixtures.File("vocab.json")));
        using var specialTokens = JsonDocument.Parse(System.IO.File.ReadAllText(ClipFixtures.File("special_tokens_map.json")));
        using var tokenizerConfig = JsonDocument.Parse(System.IO.File.ReadAllText(ClipFixtures.File("tokenizer_config.json")));
        int Id(string token) => vocabulary.RootElement.GetProperty(token).GetInt32();
        string Content(string role) => specialTokens.RootElement.GetProperty(role).GetProperty("content").GetString()!;

        var tokenizer = ClipFixtures.Tokenizer;
        Assert.Equal("<|endoftext|>", Content("pad_token"));
        Assert.Equal("<|endoftext|>", tokenizerConfig.RootElement.GetProperty("pad_token").GetString());
        Assert.Equal(Id(Content("pad_token")), tokenizer.PadId);
        Assert.Equal(Id(Content("bos_token")), tokenizer.BosId);
        Assert.Equal(Id(Content("eos_token")), tokenizer.EosId);
        Assert.Equal((Bos, Eos, Eos), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
        Assert.Equal(77, tokenizerConfig.RootElement.GetProperty("model_max_length").GetInt32());
        Assert.Equal(49408, tokenizer.VocabSize);
    }

    [RealClipTokenizerFact]
    public void FixturesAreTheFullClipVocabularyAndMerges()
    {
        var mergeLines = System.IO.File.ReadAllText(ClipFixtures.File("merges.txt")).Trim().Split('\n');
        Assert.StartsWith("#version", mergeLines[0], StringComparison.Ordinal);
        Assert.Equal(48894, mergeLines.Length - 1);
        using var vocabulary = JsonDocument.Parse(System.IO.File.ReadAllText(ClipFixtures.File("vocab.json")));
        Assert.Equal(49408, vocabulary.RootElement.EnumerateObject().Count());
    }

    [RealClipTokenizerFact]
    public void ShortPromptIsPaddedToSeventySevenWithEndOfText()
    {
        var batch = TokenBatch.Encode(ClipFixtures.Tokenizer, ["a photo of a cat"], 77);
        long[] real = [49406, 320, 1125, 539, 320, 2368, 49407];
        Assert.Equal(real.Concat(Enumerable.Repeat(49407L, 70)), batch.Ids);
        Assert.Equal(Enumerable.Repeat(1L, 7).Concat(Enumerable.Repeat(0L, 70)), batch.Mask);
    }

    [RealClipTokenizerFact]
    public void LongPromptKeepsStartOfTextSeventyFivePiecesAndEndOfText()
    {
        // 20 copies of "a photo of a cat" are 100 pieces; FluxPipeline's truncation keeps [bos] + 75 pieces + [eos].
        string text = string.Join(" ", Enumerable.Repeat("a photo of a cat", 20));
        Assert.Equal(102, ClipFixtures.Tokenizer.Encode(text).Count);

        var batch = TokenBatch.Encode(ClipFixtures.Tokenizer, [text], 77);
        long[] phrase = [320, 1125, 539, 320, 2368];
        var expected = new List<long> { 49406 };
        for (int i = 0; i < 15; i++) expected.AddRange(phrase);
        expected.Add(49407);
        Assert.Equal(expected, batch.Ids);
        Assert.All(batch.Mask, m => Assert.Equal(1L, m));
    }

    [RealClipTokenizerFact]
    public void LoadNamesAMergesFileWithoutVersionHeader()
    {
        string directory = Directory.CreateTempSubdirectory("clip-merges-").FullName;
        try
        {
            string merges = Path.Combine(directory, "merges.txt");
            System.IO.File.WriteAllText(merges, "i n\nt h\n");
            var error = Assert.Throws<InvalidDataException>(() => ClipBpeTokenizer.Load(ClipFixtures.File("vocab.json"), merges));
            Assert.Contains(merges, error.Message, StringComparison.Ordinal);
            Assert.Contains("#version", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
