using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Glance.Engine.Text;

/// <summary>
/// CLIP's byte-level BPE tokenizer (openai/clip-vit-large-patch14, FLUX.1's tokenizer/) from vocab.json and merges.txt,
/// as transformers' CLIPTokenizer encodes: [&lt;|startoftext|&gt;] + pieces + [&lt;|endoftext|&gt;]. Microsoft.ML.Tokenizers'
/// BpeTokenizer does the byte-level BPE with the "&lt;/w&gt;" end-of-word suffix; <see cref="ClipTextNormalizer"/> and
/// <see cref="ClipPreTokenizer"/> add CLIP's clean-up and word split. Padding uses &lt;|endoftext|&gt;, as FLUX.1's
/// special_tokens_map.json says.
/// </summary>
public sealed class ClipBpeTokenizer : ITextTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    public const string EndOfWordSuffix = "</w>";

    // transformers reads merges.txt lines [1, 49152 - 256 - 2]: CLIP's 49,408 tokens are 2 x 256 byte symbols, these
    // 48,894 merges and the two special tokens.
    const int MergeCount = 49152 - 256 - 2;

    readonly BpeTokenizer _inner;

    ClipBpeTokenizer(BpeTokenizer inner, int bosId, int eosId, int vocabSize)
    {
        _inner = inner;
        BosId = bosId;
        EosId = eosId;
        VocabSize = vocabSize;
    }

    /// <summary>Id of &lt;|startoftext|&gt;, which begins every sequence.</summary>
    public int BosId { get; }

    /// <summary>Id of &lt;|endoftext|&gt;, which ends every sequence and is the end-of-text position the encoder pools.</summary>
    public int EosId { get; }

    /// <summary>FLUX.1's CLIP tokenizer pads with &lt;|endoftext|&gt; (not 0).</summary>
    public int PadId => EosId;

    public int VocabSize { get; }

    public static ClipBpeTokenizer Load(string vocabJsonPath, string mergesTxtPath)
    {
        ArgumentNullException.ThrowIfNull(vocabJsonPath);
        ArgumentNullException.ThrowIfNull(mergesTxtPath);
        var vocabulary = ReadVocabulary(vocabJsonPath);
        var merges = ReadMerges(mergesTxtPath);
        int Special(string token) => vocabulary.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"CLIP vocabulary '{vocabJsonPath}' has no entry for the special token {token}.");
        int bos = Special(StartOfText), eos = Special(EndOfText);
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            Normalizer = new ClipTextNormalizer(),
            PreTokenizer = new ClipPreTokenizer(),
            SpecialTokens = new Dictionary<string, int>(StringComparer.Ordinal) { [StartOfText] = bos, [EndOfText] = eos },
            // transformers' unk_token; byte-level symbols cover every input, so it is never produced.
            UnknownToken = EndOfText,
            EndOfWordSuffix = EndOfWordSuffix,
            ByteLevel = true,
        };
        BpeTokenizer inner;
        try
        {
            inner = BpeTokenizer.Create(options);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"CLIP merges '{mergesTxtPath}' do not fit vocabulary '{vocabJsonPath}': {e.Message}", e);
        }
        return new ClipBpeTokenizer(inner, bos, eos, vocabulary.Values.Max() + 1);
    }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // BOS and EOS are added here: BpeTokenizer returns no tokens at all, not even its own BOS/EOS, for "".
        var ids = new List<int> { BosId };
        // Like transformers, special-token text is split out of the raw prompt first and each piece between is
        // cleaned up and tokenised on its own: "x<|endoftext|>" gives x's pieces and then the end-of-text id.
        int start = 0;
        while (NextSpecialToken(text, start) is var (index, token, id))
        {
            ids.AddRange(_inner.EncodeToIds(text[start..index]));
            ids.Add(id);
            start = index + token.Length;
        }
        ids.AddRange(_inner.EncodeToIds(text[start..]));
        ids.Add(EosId);
        return ids;
    }

    (int Index, string Token, int Id)? NextSpecialToken(string text, int start)
    {
        int bos = text.IndexOf(StartOfText, start, StringComparison.Ordinal);
        int eos = text.IndexOf(EndOfText, start, StringComparison.Ordinal);
        if (bos < 0 && eos < 0) return null;
        return bos >= 0 && (eos < 0 || bos < eos) ? (bos, StartOfText, BosId) : (eos, EndOfText, EosId);
    }

    static Dictionary<string, int> ReadVocabulary(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP vocabulary '{path}' does not exist.", path);
        Dictionary<string, int>? vocabulary;
        try
        {
            using var stream = File.OpenRead(path);
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"CLIP vocabulary '{path}' is not a JSON object of token to id: {e.Message}", e);
        }
        if (vocabulary is null || vocabulary.Count == 0) throw new InvalidDataException($"CLIP vocabulary '{path}' is empty.");
        return vocabulary;
    }

    /// <summary>The merges after the "#version" header line, at most <see cref="MergeCount"/>, as "left right".</summary>
    static List<string> ReadMerges(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP merges '{path}' do not exist.", path);
        var lines = File.ReadAllText(path).Trim().Split('\n');
        if (!lines[0].StartsWith("#version", StringComparison.Ordinal))
            throw new InvalidDataException($"CLIP merges '{path}' start with '{lines[0].TrimEnd('\r')}'; expected a \"#version\" header line.");
        var merges = new List<string>(Math.Min(lines.Length - 1, MergeCount));
        for (int line = 1; line < lines.Length && merges.Count < MergeCount; line++)
        {
            var pair = lines[line].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (pair.Length != 2)
                throw new InvalidDataException($"CLIP merges '{path}' line {line + 1} is '{lines[line].TrimEnd('\r')}'; expected two symbols separated by a space.");
            merges.Add(pair[0] + " " + pair[1]);
        }
        return merges;
    }
}
