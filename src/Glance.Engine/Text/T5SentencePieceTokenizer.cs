using Microsoft.ML.Tokenizers;

namespace Glance.Engine.Text;

/// <summary>
/// T5's SentencePiece (unigram) tokenizer from a spiece.model file: no BOS, EOS appended, pad id 0. Models without a
/// BOS piece are patched on load (see <see cref="SentencePieceBosPatch"/>).
/// </summary>
public sealed class T5SentencePieceTokenizer : ITextTokenizer
{
    readonly SentencePieceTokenizer _inner;

    T5SentencePieceTokenizer(SentencePieceTokenizer inner)
    {
        _inner = inner;
        VocabSize = inner.Vocabulary.Values.Max() + 1;
    }

    public static T5SentencePieceTokenizer Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"SentencePiece model '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        try
        {
            return Load(stream);
        }
        catch (Exception e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"Could not read SentencePiece model '{path}': {e.Message}", e);
        }
    }

    public static T5SentencePieceTokenizer Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        using var patched = new MemoryStream(SentencePieceBosPatch.PointMissingBosAtUnknown(buffer.ToArray()));
        return new T5SentencePieceTokenizer(SentencePieceTokenizer.Create(patched, false, true));
    }

    /// <summary>T5 reserves id 0 for padding.</summary>
    public int PadId => 0;

    public int EosId => _inner.EndOfSentenceId;

    public int VocabSize { get; }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _inner.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: true);
    }
}
