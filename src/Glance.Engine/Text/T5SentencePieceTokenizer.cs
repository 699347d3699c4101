using Microsoft.ML.Tokenizers;

namespace Glance.Engine.Text;

/// <summary>
/// T5's SentencePiece (unigram) tokenizer from a spiece.model file, or from the tokenizer.json that Hugging Face
/// converts it to: no BOS, EOS appended, pad id 0. Models without a BOS piece are patched on load (see
/// <see cref="SentencePieceBosPatch"/>). <see cref="T5TokenizerFiles"/> picks the file in a snapshot folder.
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
        return FromModelProto(buffer.ToArray());
    }

    /// <summary>
    /// From a Hugging Face tokenizer.json holding a unigram model (see <see cref="HuggingFaceUnigramFile"/> for what
    /// is read): it is turned back into the SentencePiece model it came from, so both files tokenise alike.
    /// </summary>
    public static T5SentencePieceTokenizer LoadHuggingFaceJson(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file '{path}' does not exist.", path);
        byte[] model = HuggingFaceUnigramFile.ToModelProto(path);
        try
        {
            return FromModelProto(model);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"Could not build a SentencePiece model from '{path}': {e.Message}", e);
        }
    }

    static T5SentencePieceTokenizer FromModelProto(byte[] model)
    {
        using var patched = new MemoryStream(SentencePieceBosPatch.PointMissingBosAtUnknown(model));
        return new T5SentencePieceTokenizer(SentencePieceTokenizer.Create(patched, false, true));
    }

    /// <summary>T5 reserves id 0 for padding.</summary>
    public int PadId => 0;

    public int EosId => _inner.EndOfSentenceId;

    public int VocabSize { get; }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = _inner.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: true);
        // Microsoft.ML.Tokenizers returns no ids at all for text without pieces ("", spaces); T5 still gives EOS alone.
        return ids.Count == 0 ? [EosId] : ids;
    }
}
