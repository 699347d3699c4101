using Glance.Engine.Text;

namespace Glance.Engine.Tests;

public sealed class WordTokenizerTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("glance-words-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void BuildPutsReservedTokensFirstThenWordsByFrequency()
    {
        var tokenizer = WordTokenizer.Build(["A red cat.", "a blue cat", "A cat!"]);
        Assert.Equal(["<pad>", "</s>", "<unk>", "a", "cat", "blue", "red"], tokenizer.Vocabulary);
        Assert.Equal((0, 1, 7), (tokenizer.PadId, tokenizer.EosId, tokenizer.VocabSize));
    }

    [Fact]
    public void EncodeLowerCasesSplitsOnPunctuationAndAppendsEos()
    {
        var tokenizer = WordTokenizer.Build(["a red cat", "a blue cat"]);
        Assert.Equal([6, 3, 4, 1], tokenizer.Encode("RED,a...Cat"));
    }

    [Fact]
    public void UnknownWordsMapToUnk()
    {
        var tokenizer = WordTokenizer.Build(["a red cat"]);
        Assert.Equal([3, 2, 4, 1], tokenizer.Encode("a green cat"));
    }

    [Fact]
    public void ReservedTokenTextIsNotTreatedAsTheToken()
    {
        var tokenizer = WordTokenizer.Build(["a cat"]);
        // "<pad>" splits into the word "pad", which is not in the vocabulary.
        Assert.Equal([2, 1], tokenizer.Encode("<pad>"));
    }

    [Fact]
    public void MaxVocabularySizeKeepsTheMostFrequentWords()
    {
        var tokenizer = WordTokenizer.Build(["x y y z z z"], maxVocabularySize: 5);
        Assert.Equal(["<pad>", "</s>", "<unk>", "z", "y"], tokenizer.Vocabulary);
    }

    [Fact]
    public void SaveThenLoadGivesTheSameIds()
    {
        var built = WordTokenizer.Build(["the quick brown fox", "jumps over the lazy dog"]);
        string path = Path.Combine(_folder, "vocab.txt");
        built.Save(path);
        var loaded = WordTokenizer.Load(path);
        Assert.Equal(built.Vocabulary, loaded.Vocabulary);
        Assert.Equal(built.Encode("the lazy fox sleeps"), loaded.Encode("the lazy fox sleeps"));
    }

    [Fact]
    public void LoadRejectsAFileWithoutTheReservedTokensNamingIt()
    {
        string path = Path.Combine(_folder, "bad.txt");
        File.WriteAllLines(path, ["<pad>", "<unk>", "</s>", "cat"]);
        var error = Assert.Throws<InvalidDataException>(() => WordTokenizer.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("</s>", error.Message, StringComparison.Ordinal);
    }
}

public class TokenBatchTests
{
    [Fact]
    public void ShortSequencesArePaddedAndMasked()
    {
        var batch = TokenBatch.Create([[5, 6, 1], [7, 1]], length: 4, padId: 0, eosId: 1);
        Assert.Equal((2, 4), (batch.BatchSize, batch.Length));
        Assert.Equal([5L, 6, 1, 0, 7, 1, 0, 0], batch.Ids);
        Assert.Equal([1L, 1, 1, 0, 1, 1, 0, 0], batch.Mask);
    }

    [Fact]
    public void TruncationKeepsEosAsTheLastToken()
    {
        var batch = TokenBatch.Create([[5, 6, 7, 8, 9, 1]], length: 4, padId: 0, eosId: 1);
        Assert.Equal([5L, 6, 7, 1], batch.Ids);
        Assert.Equal([1L, 1, 1, 1], batch.Mask);
    }

    [Fact]
    public void EncodeUsesTheTokenizersPadAndEos()
    {
        var tokenizer = WordTokenizer.Build(["a red cat"]);
        var batch = TokenBatch.Encode(tokenizer, ["a cat", "red red red red red"], length: 3);
        Assert.Equal([3L, 4, 1, 5, 5, 1], batch.Ids);
        Assert.Equal([1L, 1, 1, 1, 1, 1], batch.Mask);
    }

    [Fact]
    public void ToTensorsGivesInt64BatchByLength()
    {
        var batch = TokenBatch.Create([[2, 1], [3, 4, 1]], length: 5, padId: 0, eosId: 1);
        var (ids, mask) = batch.ToTensors();
        using (ids)
        using (mask)
        {
            Assert.Equal([2L, 5], ids.shape);
            Assert.Equal(TorchSharp.torch.ScalarType.Int64, ids.dtype);
            Assert.Equal([3L, 4, 1, 0, 0], ids[1].data<long>().ToArray());
            Assert.Equal(5L, mask.sum().item<long>());
        }
    }
}
