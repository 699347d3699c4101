using System.Text.Json.Nodes;
using Glance.Engine.Text;

namespace Glance.Engine.Tests.T5;

/// <summary>
/// Loading the T5 tokenizer from a snapshot's tokenizer folder, on small hand-written files: a SentencePiece model
/// (<see cref="SentencePieceModelBuilder"/>) and the tokenizer.json that Hugging Face's converter would write for the
/// same model (Unigram vocab, Strip + Replace(" {2,}") for remove_extra_whitespaces, Metaspace pre-tokenizer).
/// </summary>
public sealed class T5TokenizerFilesTests : IDisposable
{
    // T5's layout: pad 0, eos 1, unk 2, no BOS; the same tiny model as the SentencePiece tokenizer tests.
    static readonly (string Piece, float Score, int Type)[] Pieces = SentencePieceTokenizerTests.Pieces;

    readonly string _folder = Directory.CreateTempSubdirectory("glance-t5-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    void WriteSentencePiece(IReadOnlyList<(string Piece, float Score, int Type)> pieces) =>
        File.WriteAllBytes(Path.Combine(_folder, T5TokenizerFiles.SentencePieceFile), SentencePieceModelBuilder.Unigram(pieces, unkId: 2, bosId: -1, eosId: 1, padId: 0));

    /// <summary>The converter's layout; T5's files add the extra ids as special tokens after the pieces, as here.</summary>
    string WriteJson(IReadOnlyList<(string Piece, float Score, int Type)> pieces, Action<JsonObject>? edit = null)
    {
        var all = pieces.Append(("<extra_id_0>", 0f, SentencePieceModelBuilder.Control)).ToArray();
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(all.Select((p, id) => (p, id)).Where(x => x.p.Item3 != SentencePieceModelBuilder.Normal)
                .Select(x => (JsonNode)new JsonObject { ["id"] = x.id, ["content"] = x.p.Item1, ["special"] = true }).ToArray()),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Strip", ["strip_left"] = false, ["strip_right"] = true },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["Regex"] = " {2,}" }, ["content"] = "\u2581" }),
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["prepend_scheme"] = "first", ["split"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "Unigram",
                ["unk_id"] = 2,
                ["vocab"] = new JsonArray(all.Select(p => (JsonNode)new JsonArray(p.Item1, p.Item2)).ToArray()),
                ["byte_fallback"] = false,
            },
        };
        edit?.Invoke(root);
        string path = Path.Combine(_folder, T5TokenizerFiles.HuggingFaceJsonFile);
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    /// <summary>The same pieces with "▁hello" renamed, so that the two files tell themselves apart on "hello world".</summary>
    static (string, float, int)[] OtherPieces() => Pieces.Select(p => p.Piece == "\u2581hello" ? ("\u2581help", p.Score, p.Type) : p).ToArray();

    [Fact]
    public void SpiecemodelIsPreferredWhenBothFilesArePresent()
    {
        WriteSentencePiece(Pieces);
        WriteJson(OtherPieces());
        Assert.Equal([4, 5, 1], T5TokenizerFiles.Load(_folder).Encode("hello world"));
    }

    [Fact]
    public void TokenizerJsonAloneIsLoaded()
    {
        WriteJson(OtherPieces());
        // Without "▁hello", the best segmentation is ▁he + l + l + o.
        Assert.Equal([6, 9, 9, 10, 5, 1], T5TokenizerFiles.Load(_folder).Encode("hello world"));
    }

    [Fact]
    public void AFolderWithNeitherFileFailsNamingTheFolderAndBothFiles()
    {
        var error = Assert.Throws<FileNotFoundException>(() => T5TokenizerFiles.Load(_folder));
        Assert.Contains(_folder, error.Message, StringComparison.Ordinal);
        Assert.Contains("spiece.model", error.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.json", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hello world", new[] { 4, 5, 1 })]
    [InlineData("held", new[] { 6, 9, 11, 1 })]
    [InlineData("hello z", new[] { 4, 3, 2, 1 })]
    [InlineData("  hello    world  ", new[] { 4, 5, 1 })]
    [InlineData("", new[] { 1 })]
    [InlineData("   ", new[] { 1 })]
    public void BothFilesOfOneModelGiveTheSameIds(string text, int[] expected)
    {
        WriteSentencePiece(Pieces);
        string json = WriteJson(Pieces);
        Assert.Equal(expected, T5SentencePieceTokenizer.Load(Path.Combine(_folder, T5TokenizerFiles.SentencePieceFile)).Encode(text));
        Assert.Equal(expected, T5SentencePieceTokenizer.LoadHuggingFaceJson(json).Encode(text));
    }

    /// <summary>
    /// FLUX's T5 input layout with either file: pieces, EOS, then pad id 0 up to max_sequence_length; a longer
    /// prompt keeps max_length - 1 pieces and ends with EOS.
    /// </summary>
    [Theory]
    [InlineData(T5TokenizerFiles.SentencePieceFile)]
    [InlineData(T5TokenizerFiles.HuggingFaceJsonFile)]
    public void FluxLayoutPadsWithZerosAndTruncationEndsWithEos(string file)
    {
        WriteSentencePiece(Pieces);
        string json = WriteJson(Pieces);
        var tokenizer = file == T5TokenizerFiles.SentencePieceFile
            ? T5SentencePieceTokenizer.Load(Path.Combine(_folder, file))
            : T5SentencePieceTokenizer.LoadHuggingFaceJson(json);
        Assert.Equal([4L, 5, 6, 9, 11, 1, 0, 0], TokenBatch.Encode(tokenizer, ["hello world held"], 8).Ids);
        Assert.Equal([4L, 5, 6, 1], TokenBatch.Encode(tokenizer, ["hello world held"], 4).Ids);
    }

    [Fact]
    public void SpecialTokensOfTokenizerJsonAreNeverMatchedInText()
    {
        // "<extra_id_0>" is piece 14 there (after "<" and ">"); as in spiece.model, where it does not exist, the text
        // is spelt out: "▁", "<", then pieces and unknowns.
        string json = WriteJson([.. Pieces, ("<", -6, SentencePieceModelBuilder.Normal), (">", -6, SentencePieceModelBuilder.Normal)]);
        var ids = T5SentencePieceTokenizer.LoadHuggingFaceJson(json).Encode("<extra_id_0>");
        Assert.DoesNotContain(14, ids);
        Assert.Equal([3, 12], ids.Take(2));
        Assert.Equal(1, ids[^1]);
    }

    [Fact]
    public void OlderLayoutWithWhitespaceSplitAlsoRemovesExtraSpaces()
    {
        string json = WriteJson(Pieces, root =>
        {
            root["normalizer"] = null;
            root["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "WhitespaceSplit" },
                    new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["add_prefix_space"] = true }),
            };
        });
        Assert.Equal([4, 5, 1], T5SentencePieceTokenizer.LoadHuggingFaceJson(json).Encode("  hello    world "));
    }

    [Fact]
    public void PrependSchemeNeverMeansNoDummyPrefix()
    {
        string json = WriteJson(Pieces, root => root["pre_tokenizer"]!["prepend_scheme"] = "never");
        Assert.Equal([7, 8, 9, 9, 10, 1], T5SentencePieceTokenizer.LoadHuggingFaceJson(json).Encode("hello"));
    }

    public static TheoryData<string, Action<JsonObject>> Unsupported() => new()
    {
        { "model.type", root => root["model"]!["type"] = "BPE" },
        { "model.byte_fallback", root => root["model"]!["byte_fallback"] = true },
        { "model.unk_id", root => root["model"]!["unk_id"] = 99 },
        { "Lowercase", root => root["normalizer"] = new JsonObject { ["type"] = "Lowercase" } },
        { "ByteLevel", root => root["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel" } },
        { "pre_tokenizer", root => root["pre_tokenizer"] = null },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void UnsupportedTokenizerJsonIsRefusedNamingTheFileAndTheField(string named, Action<JsonObject> edit)
    {
        string json = WriteJson(Pieces, edit);
        var error = Assert.Throws<InvalidDataException>(() => T5SentencePieceTokenizer.LoadHuggingFaceJson(json));
        Assert.Contains(json, error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJsonIsRefusedNamingTheFile()
    {
        string path = Path.Combine(_folder, T5TokenizerFiles.HuggingFaceJsonFile);
        File.WriteAllText(path, "{ \"model\": ");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => T5SentencePieceTokenizer.LoadHuggingFaceJson(path)).Message, StringComparison.Ordinal);
    }
}
