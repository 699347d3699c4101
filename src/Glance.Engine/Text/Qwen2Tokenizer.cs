using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Glance.Engine.Text;

/// <summary>
/// Qwen2's byte-level BPE tokenizer (Qwen2.5-VL, the text encoder of Qwen-Image: its snapshot's tokenizer/ folder) from
/// vocab.json, merges.txt and tokenizer_config.json, encoding as transformers' Qwen2Tokenizer does: added tokens
/// (&lt;|im_start|&gt; and the rest of "added_tokens_decoder") are found in the raw text first, leftmost and longest,
/// and become their ids; the text between them is NFC-normalised (<see cref="NfcNormalizer"/>), split by Qwen2's regex
/// (<see cref="Qwen2PreTokenizer"/>) and byte-level BPE-encoded by Microsoft.ML.Tokenizers' BpeTokenizer with GPT-2's
/// byte-to-symbol table. No BOS or EOS is added, so this is no <see cref="ITextTokenizer"/> (whose sequences end with
/// EOS): Qwen-Image's prompt template carries its own &lt;|im_start|&gt; / &lt;|im_end|&gt; markers
/// (<see cref="QwenImagePromptTemplate"/>).
/// </summary>
public sealed class Qwen2Tokenizer
{
    public const string VocabularyFile = "vocab.json";
    public const string MergesFile = "merges.txt";

    readonly BpeTokenizer _inner;
    readonly string[] _tokens;
    readonly Dictionary<string, int> _addedIds;
    readonly Dictionary<int, string> _addedContents;
    // Added tokens grouped by first character, longest first, for the leftmost-longest search.
    readonly Dictionary<char, Qwen2AddedToken[]> _addedByFirstChar;

    Qwen2Tokenizer(BpeTokenizer inner, string[] tokens, IReadOnlyList<Qwen2AddedToken> added, int padId)
    {
        _inner = inner;
        _tokens = tokens;
        AddedTokens = added;
        _addedIds = added.ToDictionary(t => t.Content, t => t.Id, StringComparer.Ordinal);
        _addedContents = added.ToDictionary(t => t.Id, t => t.Content);
        _addedByFirstChar = added.GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        PadId = padId;
    }

    /// <summary>Id of tokenizer_config.json's "pad_token" (&lt;|endoftext|&gt;, 151643, for Qwen2.5-VL).</summary>
    public int PadId { get; }

    /// <summary>One more than the largest id, added tokens included (151,665 for Qwen2.5-VL; its embedding has more rows).</summary>
    public int VocabSize => _tokens.Length;

    /// <summary>The added tokens of tokenizer_config.json, special or not.</summary>
    public IReadOnlyList<Qwen2AddedToken> AddedTokens { get; }

    /// <summary>The id of an added token such as "&lt;|im_start|&gt;", or null when there is no such added token.</summary>
    public int? IdOf(string specialToken)
    {
        ArgumentNullException.ThrowIfNull(specialToken);
        return _addedIds.TryGetValue(specialToken, out int id) ? id : null;
    }

    /// <summary>
    /// The token as transformers' convert_ids_to_tokens names it: the vocabulary's byte-level form ("Ġcat" for " cat",
    /// "Ċ" for a newline) or an added token's text.
    /// </summary>
    public string TokenOf(int id) => (uint)id < (uint)_tokens.Length && _tokens[id] is { } token
        ? token
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"expected a token id in [0, {VocabSize}) that the vocabulary or the added tokens define");

    /// <summary>Loads vocab.json, merges.txt and tokenizer_config.json from <paramref name="folder"/> (a Qwen-Image snapshot's tokenizer/).</summary>
    public static Qwen2Tokenizer Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Qwen2 tokenizer folder '{folder}' does not exist.");
        string vocabularyPath = Path.Combine(folder, VocabularyFile), mergesPath = Path.Combine(folder, MergesFile);
        string configPath = Path.Combine(folder, Qwen2TokenizerConfig.FileName);
        var vocabulary = ReadVocabulary(vocabularyPath);
        var merges = ReadMerges(mergesPath);
        var config = Qwen2TokenizerConfig.Read(configPath);

        var tokens = new string[Math.Max(vocabulary.Values.Max(), config.AddedTokens.Max(t => t.Id)) + 1];
        foreach (var (token, id) in vocabulary)
        {
            if (id < 0) throw new InvalidDataException($"Qwen2 vocabulary '{vocabularyPath}' gives '{token}' the negative id {id}.");
            if (tokens[id] is not null)
                throw new InvalidDataException($"Qwen2 vocabulary '{vocabularyPath}' gives the id {id} to both '{tokens[id]}' and '{token}'.");
            tokens[id] = token;
        }
        foreach (var added in config.AddedTokens)
        {
            // An added token may repeat its own vocabulary entry, never take another token's id or text.
            bool inVocabulary = vocabulary.TryGetValue(added.Content, out int vocabularyId);
            if ((tokens[added.Id] is { } other && other != added.Content) || (inVocabulary && vocabularyId != added.Id))
                throw new InvalidDataException(
                    $"Qwen2 tokenizer config '{configPath}' adds '{added.Content}' as id {added.Id}, which clashes with vocabulary " +
                    $"'{vocabularyPath}' ({(inVocabulary ? $"'{added.Content}' is id {vocabularyId}" : $"id {added.Id} is '{tokens[added.Id]}'")}).");
            tokens[added.Id] = added.Content;
        }
        int padId = config.AddedTokens.FirstOrDefault(t => t.Content == config.PadToken)?.Id
            ?? (vocabulary.TryGetValue(config.PadToken, out int padVocabularyId) ? padVocabularyId
                : throw new InvalidDataException(
                    $"Qwen2 tokenizer config '{configPath}' names \"pad_token\" '{config.PadToken}', which is neither an added token nor in vocabulary '{vocabularyPath}'."));

        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            Normalizer = new NfcNormalizer(),
            PreTokenizer = new Qwen2PreTokenizer(),
            ByteLevel = true,
        };
        BpeTokenizer inner;
        try
        {
            inner = BpeTokenizer.Create(options);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"Qwen2 merges '{mergesPath}' do not fit vocabulary '{vocabularyPath}': {e.Message}", e);
        }
        return new Qwen2Tokenizer(inner, tokens, config.AddedTokens, padId);
    }

    /// <summary>The ids of <paramref name="text"/>, nothing added: "&lt;|im_start|&gt;system\n" gives 151644, 8948, 198.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        int start = 0;
        while (NextAddedToken(text, start) is var (index, token))
        {
            ids.AddRange(_inner.EncodeToIds(text[start..index]));
            ids.Add(token.Id);
            start = index + token.Content.Length;
        }
        ids.AddRange(_inner.EncodeToIds(text[start..]));
        return ids;
    }

    /// <summary>
    /// The text of <paramref name="ids"/>, added tokens included, as transformers' decode with its Qwen2 defaults
    /// (special tokens kept, no spaces put between them, no clean-up); bytes that are not valid UTF-8 become U+FFFD.
    /// </summary>
    public string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            TokenOf(id);
            if (_addedContents.TryGetValue(id, out string? content))
            {
                FlushRun();
                text.Append(content);
            }
            else
            {
                run.Add(id);
            }
        }
        FlushRun();
        return text.ToString();

        void FlushRun()
        {
            if (run.Count == 0) return;
            text.Append(_inner.Decode(run));
            run.Clear();
        }
    }

    /// <summary>The added token that occurs first at or after <paramref name="start"/>, the longest where several start there.</summary>
    (int Index, Qwen2AddedToken Token)? NextAddedToken(string text, int start)
    {
        for (int i = start; i < text.Length; i++)
        {
            if (!_addedByFirstChar.TryGetValue(text[i], out var candidates)) continue;
            foreach (var candidate in candidates)
            {
                if (text.AsSpan(i).StartsWith(candidate.Content, StringComparison.Ordinal)) return (i, candidate);
            }
        }
        return null;
    }

    static Dictionary<string, int> ReadVocabulary(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Qwen2 vocabulary '{path}' does not exist.", path);
        Dictionary<string, int>? vocabulary;
        try
        {
            using var stream = File.OpenRead(path);
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Qwen2 vocabulary '{path}' is not a JSON object of token to id: {e.Message}", e);
        }
        if (vocabulary is null || vocabulary.Count == 0) throw new InvalidDataException($"Qwen2 vocabulary '{path}' is empty.");
        return vocabulary;
    }

    /// <summary>
    /// The merges as "left right", in rank order, as transformers reads merges.txt: an optional "#version" first line
    /// and blank lines are skipped, every other line is two symbols.
    /// </summary>
    static List<string> ReadMerges(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Qwen2 merges '{path}' do not exist.", path);
        var lines = File.ReadAllLines(path);
        var merges = new List<string>(lines.Length);
        for (int line = 0; line < lines.Length; line++)
        {
            string text = lines[line].Trim();
            if (text.Length == 0 || (line == 0 && text.StartsWith("#version", StringComparison.Ordinal))) continue;
            var pair = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (pair.Length != 2)
                throw new InvalidDataException($"Qwen2 merges '{path}' line {line + 1} is '{text}'; expected two symbols separated by a space.");
            merges.Add(pair[0] + " " + pair[1]);
        }
        if (merges.Count == 0) throw new InvalidDataException($"Qwen2 merges '{path}' hold no merges.");
        return merges;
    }
}
