using System.Text.Json.Nodes;

namespace Glance.Engine.Text;

/// <summary>
/// Small tokenizer files in the exact formats of FLUX.1's tokenizer/ (CLIP: vocab.json, merges.txt with its "#version"
/// header, byte-level symbols and "&lt;/w&gt;" word ends, the two special tokens last) and tokenizer_2/ (T5: a SentencePiece
/// unigram spiece.model with pad 0, eos 1, unk 2 and no BOS), so that snapshot fixtures and `glance bench write-snapshot` need no third-party data. The real
/// files' ids are pinned by the CLIP and T5 tokenizer tests where those files are present.
/// </summary>
public static class SyntheticTokenizerFiles
{
    static readonly string[] ClipMerges = ["t h", "th e</w>", "l i", "li g", "lig h", "o n</w>", "c l"];
    static readonly string[] T5Words = ["▁a", "▁light", "house", "▁on", "▁cliff", "▁at", "▁dawn", "▁red", "▁apple", "▁the", "▁of"];

    public static void WriteClip(string folder)
    {
        Directory.CreateDirectory(folder);
        var symbols = ByteSymbols();
        var vocab = new JsonObject();
        int id = 0;
        foreach (string symbol in symbols) vocab[symbol] = id++;
        foreach (string symbol in symbols) vocab[symbol + "</w>"] = id++;
        var merges = ClipMerges.Select(m => m.Trim()).Where(m => m.Contains(' ', StringComparison.Ordinal)).ToArray();
        foreach (string merge in merges)
        {
            string joined = merge.Replace(" ", "", StringComparison.Ordinal);
            if (!vocab.ContainsKey(joined)) vocab[joined] = id++;
        }
        vocab["<|startoftext|>"] = id++;
        vocab["<|endoftext|>"] = id;
        File.WriteAllText(Path.Combine(folder, "vocab.json"), vocab.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\n" + string.Join('\n', merges) + "\n");
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"),
            """{"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}""");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            """{"do_lower_case": true, "model_max_length": 77, "pad_token": "<|endoftext|>", "tokenizer_class": "CLIPTokenizer"}""");
    }

    public static void WriteT5(string folder)
    {
        Directory.CreateDirectory(folder);
        var pieces = new List<(string, float, int)>
        {
            ("<pad>", 0, SentencePieceModelBuilder.Control),
            ("</s>", 0, SentencePieceModelBuilder.Control),
            ("<unk>", 0, SentencePieceModelBuilder.Unknown),
            ("▁", -2, SentencePieceModelBuilder.Normal),
            (",", -3, SentencePieceModelBuilder.Normal),
            (".", -3, SentencePieceModelBuilder.Normal),
        };
        pieces.AddRange(T5Words.Select((w, i) => (w, -4f - 0.01f * i, SentencePieceModelBuilder.Normal)));
        pieces.AddRange("abcdefghijklmnopqrstuvwxyz0123456789".Select((c, i) => (c.ToString(), -8f - 0.01f * i, SentencePieceModelBuilder.Normal)));
        File.WriteAllBytes(Path.Combine(folder, "spiece.model"), SentencePieceModelBuilder.Unigram(pieces, unkId: 2, bosId: -1, eosId: 1, padId: 0));
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), """{"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}""");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"model_max_length": 512, "tokenizer_class": "T5Tokenizer"}""");
    }

    /// <summary>
    /// Qwen2 tokenizer files (vocab.json, merges.txt, tokenizer_config.json with "added_tokens_decoder"): the 256 byte
    /// symbols, then every word of Qwen-Image's prompt template and of <paramref name="words"/> (with and without its
    /// leading space) built up symbol by symbol by the merges, then &lt;|endoftext|&gt;, &lt;|im_start|&gt; and &lt;|im_end|&gt;. Each
    /// template word is one token, as in the real vocabulary, so the template's prefix is 34 tokens here too.
    /// </summary>
    public static void WriteQwen2(string folder, IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        Directory.CreateDirectory(folder);
        const string space = "\u0120";
        string[] template = ["system", "user", "assistant", "Describe", .. "the image by detailing color shape size texture quantity text spatial relationships of objects and background"
            .Split(' ').Select(w => space + w)];
        var symbols = ByteSymbols();
        var vocab = new JsonObject();
        foreach (string symbol in symbols) vocab[symbol] = vocab.Count;
        var merges = new List<string>();
        // The template's words first: their merges rank before any prompt word's, so no prompt merge splits them.
        foreach (string word in template.Concat(words.SelectMany(w => new[] { space + w, w })))
        {
            string built = word[..1];
            foreach (char next in word[1..])
            {
                string merged = built + next;
                if (!vocab.ContainsKey(merged))
                {
                    merges.Add($"{built} {next}");
                    vocab[merged] = vocab.Count;
                }
                built = merged;
            }
        }
        var decoder = new JsonObject();
        foreach (string special in new[] { "<|endoftext|>", "<|im_start|>", "<|im_end|>" })
        {
            decoder[(vocab.Count + decoder.Count).ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = special, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false, ["single_word"] = false, ["special"] = true,
            };
        }
        File.WriteAllText(Path.Combine(folder, "vocab.json"), vocab.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\n" + string.Join('\n', merges) + "\n");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), new JsonObject
        {
            ["added_tokens_decoder"] = decoder,
            ["eos_token"] = "<|im_end|>",
            ["model_max_length"] = 131072,
            ["pad_token"] = "<|endoftext|>",
            ["tokenizer_class"] = "Qwen2Tokenizer",
        }.ToJsonString());
    }

    /// <summary>GPT-2's byte-to-symbol table, in byte order: printable bytes stand for themselves, the rest from U+0100 on.</summary>
    static List<string> ByteSymbols()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var symbols = new List<string>(256);
        int next = 256;
        var byByte = new string[256];
        for (int b = 0; b < 256; b++) byByte[b] = Printable(b) ? ((char)b).ToString() : ((char)next++).ToString();
        // CLIP's vocabulary lists the printable bytes first, then the remapped ones.
        symbols.AddRange(Enumerable.Range(0, 256).Where(Printable).Select(b => byByte[b]));
        symbols.AddRange(Enumerable.Range(0, 256).Where(b => !Printable(b)).Select(b => byByte[b]));
        return symbols;
    }
}
