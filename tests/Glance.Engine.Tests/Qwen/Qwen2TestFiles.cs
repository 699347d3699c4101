using System.Text.Json.Nodes;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// Tiny tokenizer folders in the Qwen2 formats (vocab.json, merges.txt with its "#version" line, tokenizer_config.json
/// with "added_tokens_decoder"), written into a temporary folder that is deleted on dispose.
/// </summary>
internal sealed class Qwen2TestFiles : IDisposable
{
    public Qwen2TestFiles() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "glance-qwen2-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => Path.Combine(Folder, name);

    /// <summary>
    /// The tiny vocabulary of transformers' tests/models/qwen2/test_tokenization_qwen2.py: the 256 byte symbols in
    /// bytes_to_unicode's order (ids 0-255), then its 14 tokens (256-269) and 10 merges; &lt;|endoftext|&gt; is added as 270
    /// and &lt;|im_start|&gt; as 271 (its decode test adds that one), plus <paramref name="moreAdded"/>.
    /// </summary>
    public static Qwen2TestFiles TransformersTiny(params (int Id, string Content, bool Special)[] moreAdded)
    {
        var files = new Qwen2TestFiles();
        files.WriteVocabulary(ByteSymbols().Concat(
        [
            "\u0120l", "\u0120n", "\u0120lo", "\u0120low", "er", "\u0120lowest", "\u0120newer", "\u0120wider", "01", ";}", ";}\u010a",
            "\u00cf\u0135", "\u0120#", "##",
        ]));
        files.WriteMerges(["\u0120 l", "\u0120l o", "\u0120lo w", "e r", "0 1", "; }", ";} \u010a", "\u00cf \u0135", "\u0120 #", "# #"]);
        files.WriteConfig([(270, "<|endoftext|>", true), (271, "<|im_start|>", true), .. moreAdded]);
        return files;
    }

    public void WriteVocabulary(IEnumerable<string> tokens)
    {
        var vocabulary = new JsonObject();
        int id = 0;
        foreach (string token in tokens) vocabulary[token] = id++;
        System.IO.File.WriteAllText(File("vocab.json"), vocabulary.ToJsonString());
    }

    public void WriteMerges(IEnumerable<string> merges) =>
        System.IO.File.WriteAllText(File("merges.txt"), "#version: 0.2\n" + string.Join('\n', merges) + "\n");

    /// <summary>tokenizer_config.json with these added tokens (all flags false but "special") and "pad_token" unless null.</summary>
    public void WriteConfig(IEnumerable<(int Id, string Content, bool Special)> added, string? padToken = "<|endoftext|>")
    {
        var decoder = new JsonObject();
        foreach (var (id, content, special) in added)
        {
            decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false, ["single_word"] = false, ["special"] = special,
            };
        }
        var config = new JsonObject { ["added_tokens_decoder"] = decoder, ["tokenizer_class"] = "Qwen2Tokenizer" };
        if (padToken is not null) config["pad_token"] = padToken;
        System.IO.File.WriteAllText(File("tokenizer_config.json"), config.ToJsonString());
    }

    /// <summary>GPT-2's bytes_to_unicode values in its dict order: '!'..'~', '¡'..'¬', '®'..'ÿ' as themselves, then the other bytes from U+0100 on.</summary>
    public static List<string> ByteSymbols()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('\u00a1', '\u00ac' - '\u00a1' + 1))
            .Concat(Enumerable.Range('\u00ae', '\u00ff' - '\u00ae' + 1)).ToList();
        var symbols = printable.Select(b => ((char)b).ToString()).ToList();
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            if (!printable.Contains(b)) symbols.Add(((char)next++).ToString());
        }
        return symbols;
    }

    public void Dispose()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }
}
