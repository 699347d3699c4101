using System.Text;

namespace Glance.Engine.Text;

/// <summary>
/// Whole-word tokenizer for the small built-in model: lower-cased words split on anything that is not a letter or
/// digit, looked up in a vocabulary file (one word per line, id = line number). Ids 0-2 are reserved.
/// </summary>
public sealed class WordTokenizer : ITextTokenizer
{
    public const string PadToken = "<pad>";
    public const string EosToken = "</s>";
    public const string UnknownToken = "<unk>";
    static readonly string[] Reserved = [PadToken, EosToken, UnknownToken];

    readonly string[] _words;
    readonly Dictionary<string, int> _ids;

    public WordTokenizer(IEnumerable<string> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _words = vocabulary.ToArray();
        for (int i = 0; i < Reserved.Length; i++)
        {
            if (_words.Length <= i || _words[i] != Reserved[i])
                throw new ArgumentException($"Vocabulary entry {i} is '{(_words.Length > i ? _words[i] : "(missing)")}'; expected the reserved token '{Reserved[i]}'.", nameof(vocabulary));
        }
        _ids = new Dictionary<string, int>(_words.Length, StringComparer.Ordinal);
        for (int i = 0; i < _words.Length; i++)
        {
            if (i >= Reserved.Length && (_words[i].Length == 0 || SplitWords(_words[i]).Count != 1 || SplitWords(_words[i])[0] != _words[i]))
                throw new ArgumentException($"Vocabulary entry {i} is '{_words[i]}'; expected a single lower-case word of letters and digits.", nameof(vocabulary));
            if (!_ids.TryAdd(_words[i], i))
                throw new ArgumentException($"Vocabulary entry {i} '{_words[i]}' repeats entry {_ids[_words[i]]}.", nameof(vocabulary));
        }
    }

    public int PadId => 0;
    public int EosId => 1;
    public static int UnknownId => 2;
    public int VocabSize => _words.Length;
    public IReadOnlyList<string> Vocabulary => _words;

    /// <summary>Vocabulary of a corpus: reserved tokens, then words by descending frequency (ties in ordinal order).</summary>
    public static WordTokenizer Build(IEnumerable<string> corpus, int? maxVocabularySize = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (maxVocabularySize is { } max && max < Reserved.Length)
            throw new ArgumentOutOfRangeException(nameof(maxVocabularySize), max, $"expected at least {Reserved.Length} (the reserved tokens)");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in corpus)
        {
            foreach (var word in SplitWords(text ?? ""))
            {
                if (Array.IndexOf(Reserved, word) < 0) counts[word] = counts.GetValueOrDefault(word) + 1;
            }
        }
        var words = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key);
        if (maxVocabularySize is { } limit) words = words.Take(limit - Reserved.Length);
        return new WordTokenizer(Reserved.Concat(words));
    }

    public static WordTokenizer Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Vocabulary file '{path}' does not exist.", path);
        try
        {
            return new WordTokenizer(File.ReadAllLines(path, Encoding.UTF8));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Vocabulary file '{path}' is invalid: {e.Message}", e);
        }
    }

    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllText(path, string.Join('\n', _words) + "\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = SplitWords(text).Select(word => _ids.TryGetValue(word, out int id) && id >= Reserved.Length ? id : UnknownId).ToList();
        ids.Add(EosId);
        return ids;
    }

    /// <summary>Lower-cased runs of letters and digits.</summary>
    public static IReadOnlyList<string> SplitWords(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (char c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0) words.Add(current.ToString());
        return words;
    }
}
