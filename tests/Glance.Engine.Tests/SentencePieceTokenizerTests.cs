using Glance.Engine.Text;

namespace Glance.Engine.Tests;

public sealed class SentencePieceTokenizerTests : IDisposable
{
    // T5's layout: pad 0, eos 1, unk 2, no BOS. Shared with the T5 tokenizer-folder tests.
    internal static readonly (string Piece, float Score, int Type)[] Pieces =
    [
        ("<pad>", 0, SentencePieceModelBuilder.Control),   // 0
        ("</s>", 0, SentencePieceModelBuilder.Control),    // 1
        ("<unk>", 0, SentencePieceModelBuilder.Unknown),   // 2
        ("\u2581", -2, SentencePieceModelBuilder.Normal),       // 3
        ("\u2581hello", -1, SentencePieceModelBuilder.Normal),  // 4
        ("\u2581world", -1.5f, SentencePieceModelBuilder.Normal), // 5
        ("\u2581he", -3, SentencePieceModelBuilder.Normal),     // 6
        ("h", -5, SentencePieceModelBuilder.Normal),       // 7
        ("e", -5, SentencePieceModelBuilder.Normal),       // 8
        ("l", -5, SentencePieceModelBuilder.Normal),       // 9
        ("o", -5, SentencePieceModelBuilder.Normal),       // 10
        ("d", -5, SentencePieceModelBuilder.Normal),       // 11
    ];

    readonly string _folder = Directory.CreateTempSubdirectory("glance-spm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    T5SentencePieceTokenizer LoadTiny()
    {
        string path = Path.Combine(_folder, "spiece.model");
        File.WriteAllBytes(path, SentencePieceModelBuilder.Unigram(Pieces, unkId: 2, bosId: -1, eosId: 1, padId: 0));
        return T5SentencePieceTokenizer.Load(path);
    }

    [Fact]
    public void HandBuiltUnigramModelLoadsWithT5SpecialIds()
    {
        var tokenizer = LoadTiny();
        Assert.Equal(0, tokenizer.PadId);
        Assert.Equal(1, tokenizer.EosId);
        Assert.Equal(Pieces.Length, tokenizer.VocabSize);
    }

    [Fact]
    public void WholeWordPiecesWinAndEosIsAppended()
    {
        Assert.Equal([4, 5, 1], LoadTiny().Encode("hello world"));
    }

    [Fact]
    public void UnigramPicksTheBestScoringSegmentation()
    {
        // "▁held": ▁he + l + d scores -13, better than ▁ + h + e + l + d at -22.
        Assert.Equal([6, 9, 11, 1], LoadTiny().Encode("held"));
    }

    [Fact]
    public void CharactersOutsideTheVocabularyBecomeUnknown()
    {
        // "▁z": the "▁" piece, then one unknown character.
        Assert.Equal([4, 3, 2, 1], LoadTiny().Encode("hello z"));
    }

    [Fact]
    public void MissingModelFileFailsNamingThePath()
    {
        string path = Path.Combine(_folder, "absent.model");
        var error = Assert.Throws<FileNotFoundException>(() => T5SentencePieceTokenizer.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
