using System.Text.Json;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// The real Qwen2 tokenizer (Qwen-Image's tokenizer/) against tokenizations published by others; Qwen1.5, Qwen2 and
/// Qwen2.5 (VL included) share these 151,643 BPE tokens and 151,387 merges. Each source is named above its cases. Every
/// case also decodes back to its text, which checks the transcription of the text here independently of the BPE.
/// </summary>
public sealed class Qwen2PublishedTokenizationTests
{
    const string Khmer = "កាន់តែពិសេសអាចខលចេញ";
    const string Rocket = "\U0001F680";
    const string FogFace = "\U0001F636\u200D\U0001F32B\uFE0F"; // face in clouds: a ZWJ sequence
    const string Llama = "\U0001F999";
    const string Grin = "\U0001F601";

    public static TheoryData<string, int[]> Published => new()
    {
        // ggerganov/llama.cpp, models/ggml-vocab-qwen2.gguf.inp (commit e31d5c63812eaeb412ba1354a6bdf4aeb8a6e5bb) and
        // .out (commit 362f71e454695ca552c2ba1b4ad1fcd0b5f8f30a): written by its convert_hf_to_gguf_update.py with
        // transformers' tokenizer of Qwen/Qwen1.5-7B. Whitespace runs, single digits, contractions, scripts, emoji.
        { "ied 4 ½ months", [1122, 220, 19, 220, 26062, 3951] },
        { "Führer", [37, 50753, 261] },
        { "", [] },
        { " ", [220] },
        { "  ", [256] },
        { "   ", [262] },
        { "\t", [197] },
        { "\n", [198] },
        { "\n\n", [271] },
        { "\n\n\n", [1406] },
        { "\t\n", [1572] },
        { "Hello world", [9707, 1879] },
        { " Hello world", [21927, 1879] },
        { "Hello World", [9707, 4337] },
        { " Hello World", [21927, 4337] },
        { " Hello World!", [21927, 4337, 0] },
        { "Hello, world!", [9707, 11, 1879, 0] },
        { " Hello, world!", [21927, 11, 1879, 0] },
        { " this is " + Llama + ".cpp", [419, 374, 11162, 99, 247, 13, 10821] },
        { "w048 7tuijk dsdfhu", [86, 15, 19, 23, 220, 22, 83, 1963, 41808, 11472, 2940, 16739] },
        { "нещо на Български", [78762, 14144, 1456, 13073, 63471, 33594, 3038, 133178, 79012] },
        { Khmer, [146394, 97529, 241, 44258, 233, 146568, 44258, 224, 147603, 20879, 115, 146280, 44258, 223, 146280, 147272, 97529, 227, 147805, 148301, 147270, 44258, 223, 146848] },
        { Rocket + " (normal) " + FogFace + " (multiple emojis concatenated) \u2705 (only emoji that has its own token)", [145836, 320, 8252, 8, 26525, 114, 378, 235, 149921, 30543, 320, 35673, 99066, 97534, 8, 25521, 227, 320, 3243, 42365, 429, 702, 1181, 1828, 3950, 8] },
        { "Hello", [9707] },
        { " Hello", [21927] },
        { "  Hello", [220, 21927] },
        { "   Hello", [256, 21927] },
        { "    Hello", [262, 21927] },
        { "    Hello\n    Hello", [262, 21927, 198, 262, 21927] },
        { " (", [320] },
        { "\n =", [198, 284] },
        { "' era", [6, 11385] },
        { "Hello, y'all! How are you " + Grin + " ?我想在apple工作1314151天～", [9707, 11, 379, 64848, 0, 2585, 525, 498, 26525, 223, 937, 104100, 18493, 22377, 99257, 16, 18, 16, 19, 16, 20, 16, 35727, 21216] },
        { "3", [18] },
        { "33", [18, 18] },
        { "333333333", [18, 18, 18, 18, 18, 18, 18, 18, 18] },
        {
            "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n" + Rocket + " (normal) " + FogFace + " (multiple emojis concatenated) \u2705 " + Llama + Llama +
            " 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច" + Grin + " ?我想在apple工作1314151天～ ------======= нещо на Български" +
            " ''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL",
            [198, 4710, 14731, 65497, 7847, 1572, 2303, 78672, 10947, 145836, 320, 8252, 8, 26525, 114, 378, 235, 149921, 30543, 320, 35673, 99066, 97534, 8, 25521, 227, 11162, 99, 247, 149955, 220, 18, 220, 18, 18, 220, 18, 18, 18, 220, 18, 18, 18, 18, 220, 18, 18, 18, 18, 18, 220, 18, 18, 18, 18, 18, 18, 220, 18, 18, 18, 18, 18, 18, 18, 220, 18, 18, 18, 18, 18, 18, 18, 18, 220, 18, 13, 18, 220, 18, 496, 18, 220, 18, 1112, 18, 220, 146394, 97529, 241, 44258, 233, 146568, 44258, 224, 147603, 20879, 115, 146280, 44258, 223, 146280, 147272, 97529, 227, 144534, 937, 104100, 18493, 22377, 99257, 16, 18, 16, 19, 16, 20, 16, 35727, 21216, 55460, 53237, 18658, 14144, 1456, 13073, 63471, 33594, 3038, 133178, 79012, 3355, 4605, 4605, 13874, 13874, 73594, 3014, 3014, 28149, 17085, 2928, 26610, 7646, 358, 3003, 1012, 364, 83, 813, 566, 594, 1052, 11, 364, 787, 498, 2704, 30, 364, 44, 537, 2704, 358, 3278, 1281, 432, 11, 364, 35, 498, 1075, 1045, 15243, 30, 1205, 6, 42612, 264, 63866, 43]
        },

        // huggingface/transformers, tests/models/qwen2/test_tokenization_qwen2.py (commit
        // 04bee35c8777d027a981e061f32fc12a1b3265d3), test_tokenizer_integration: Qwen/Qwen-tokenizer at revision
        // 5909c8222473b2c73b0b73fb054552cd4ef6a8eb, padding (151643) removed.
        {
            "Transformers (formerly known as pytorch-transformers and pytorch-pretrained-bert) provides general-purpose architectures " +
            "(BERT, GPT-2, RoBERTa, XLM, DistilBert, XLNet...) for Natural Language Understanding (NLU) and Natural Language " +
            "Generation (NLG) with over 32+ pretrained models in 100+ languages and deep interoperability between Jax, PyTorch and TensorFlow.",
            [8963, 388, 320, 69514, 3881, 438, 4510, 27414, 32852, 388, 323, 4510, 27414, 21334, 35722, 1455, 529, 8, 5707, 4586, 58238, 77235, 320, 61437, 11, 479, 2828, 12, 17, 11, 11830, 61437, 64, 11, 1599, 10994, 11, 27604, 321, 33, 529, 11, 29881, 6954, 32574, 369, 18448, 11434, 45451, 320, 45, 23236, 8, 323, 18448, 11434, 23470, 320, 30042, 38, 8, 448, 916, 220, 18, 17, 10, 80669, 4119, 304, 220, 16, 15, 15, 10, 15459, 323, 5538, 94130, 2897, 1948, 619, 706, 11, 5355, 51, 21584, 323, 94986, 13]
        },
        {
            "\U0001F917 Transformers 提供了可以轻松地下载并且训练先进的预训练模型的 API 和工具。使用预训练模型可以减少计算消耗和碳排放，并且节省从头训练所需要的时间和资源。",
            [144834, 80532, 93685, 83744, 34187, 73670, 104261, 29490, 62189, 103937, 104034, 102830, 98841, 104034, 104949, 9370, 5333, 58143, 102011, 1773, 37029, 98841, 104034, 104949, 73670, 101940, 100768, 104997, 33108, 100912, 105054, 90395, 100136, 106831, 45181, 64355, 104034, 113521, 101975, 33108, 85329, 1773]
        },
        {
            "```python\ntokenizer = AutoTokenizer.from_pretrained(\"Qwen/Qwen-tokenizer\")\ntokenizer(\"世界，你好！\")```",
            [73594, 12669, 198, 85593, 284, 8979, 37434, 6387, 10442, 35722, 445, 48, 16948, 45274, 16948, 34841, 3135, 1138, 85593, 445, 99489, 3837, 108386, 6313, 899, 73594]
        },

        // huggingface/transformers, tests/models/qwen2_5_vl/test_modeling_qwen2_5_vl.py, test_small_model_integration_test:
        // the first 17 ids Qwen2.5-VL-7B-Instruct's processor gives its chat-templated text (the image's pads follow).
        // Added tokens split out of the text, next to each other and next to BPE text, with no BOS or EOS added.
        {
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|image_pad|>",
            [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 151652, 151655, 151655]
        },
    };

    [RealQwen2TokenizerTheory]
    [MemberData(nameof(Published))]
    public void EncodesAsThePublishedQwen2Tokenizations(string text, int[] expected)
    {
        Assert.Equal(expected, Qwen2Fixtures.Tokenizer.Encode(text));
    }

    [RealQwen2TokenizerTheory]
    [MemberData(nameof(Published))]
    public void PublishedIdsDecodeBackToTheirText(string text, int[] ids)
    {
        Assert.Equal(text, Qwen2Fixtures.Tokenizer.Decode(ids));
    }

    [RealQwen2TokenizerFact]
    public void TextIsNormalisedToNfcBeforeBpe()
    {
        // transformers' test_nfc_normalization: the NFD spelling of U+03D3 U+03D4 U+1E9B comes out as their NFC form.
        var tokenizer = Qwen2Fixtures.Tokenizer;
        var decomposed = tokenizer.Encode("\u03d2\u0301\u03d2\u0308\u017f\u0307");
        Assert.Equal(tokenizer.Encode("\u03d3\u03d4\u1e9b"), decomposed);
        Assert.Equal("\u03d3\u03d4\u1e9b", tokenizer.Decode(decomposed));
    }

    [RealQwen2TokenizerFact]
    public void AddedTokensAndPaddingAreThoseOfTheTokenizerConfig()
    {
        using var config = JsonDocument.Parse(System.IO.File.ReadAllText(Qwen2Fixtures.File("tokenizer_config.json")));
        var decoder = config.RootElement.GetProperty("added_tokens_decoder");
        var tokenizer = Qwen2Fixtures.Tokenizer;

        // Qwen2.5-VL's 22 added tokens, 151643 to 151664, each its own id whole.
        Assert.Equal(22, tokenizer.AddedTokens.Count);
        foreach (var entry in decoder.EnumerateObject())
        {
            string content = entry.Value.GetProperty("content").GetString()!;
            int id = int.Parse(entry.Name, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(id, tokenizer.IdOf(content));
            Assert.Equal([id], tokenizer.Encode(content));
            Assert.Equal(content, tokenizer.Decode([id]));
        }
        Assert.Equal((151643, 151644, 151645), (tokenizer.IdOf("<|endoftext|>"), tokenizer.IdOf("<|im_start|>"), tokenizer.IdOf("<|im_end|>")));
        Assert.Null(tokenizer.IdOf("system"));
        Assert.Equal("<|endoftext|>", config.RootElement.GetProperty("pad_token").GetString());
        Assert.Equal(151643, tokenizer.PadId);
        Assert.Equal(151665, tokenizer.VocabSize);
    }

    [RealQwen2TokenizerFact]
    public void FixturesAreTheFullQwen2VocabularyAndMerges()
    {
        using var vocabulary = JsonDocument.Parse(System.IO.File.ReadAllText(Qwen2Fixtures.File("vocab.json")));
        Assert.Equal(151643, vocabulary.RootElement.EnumerateObject().Count());
        var merges = System.IO.File.ReadAllLines(Qwen2Fixtures.File("merges.txt"));
        Assert.StartsWith("#version", merges[0], StringComparison.Ordinal);
        Assert.Equal(151387, merges.Skip(1).Count(line => line.Length > 0));
    }

    [RealQwen2TokenizerFact]
    public void TokenOfNamesTheByteLevelFormAsConvertIdsToTokens()
    {
        var tokenizer = Qwen2Fixtures.Tokenizer;
        Assert.Equal(("Hello", "\u0120Hello", "\u010a", "<|im_start|>"), (tokenizer.TokenOf(9707), tokenizer.TokenOf(21927), tokenizer.TokenOf(198), tokenizer.TokenOf(151644)));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.TokenOf(151665));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
    }
}
