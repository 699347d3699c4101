using System.Globalization;
using System.Text.Json;

namespace Glance.Engine.Text;

/// <summary>One entry of tokenizer_config.json's "added_tokens_decoder": text matched whole, before BPE, as this id.</summary>
/// <param name="Special">transformers' "special" flag (false for &lt;tool_call&gt; and the fill-in-the-middle tokens); both kinds are matched alike.</param>
public sealed record Qwen2AddedToken(int Id, string Content, bool Special);

/// <summary>
/// What the Qwen2 tokenizer takes from tokenizer_config.json: the added tokens ("added_tokens_decoder", which Qwen
/// keeps out of vocab.json: &lt;|endoftext|&gt; 151643, &lt;|im_start|&gt; 151644, &lt;|im_end|&gt; 151645, ...) and the
/// padding token ("pad_token", &lt;|endoftext|&gt;; transformers' Qwen2Tokenizer uses that when the field is absent).
/// </summary>
public sealed record Qwen2TokenizerConfig(IReadOnlyList<Qwen2AddedToken> AddedTokens, string PadToken)
{
    public const string FileName = "tokenizer_config.json";
    public const string DefaultPadToken = "<|endoftext|>";

    public static Qwen2TokenizerConfig Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Qwen2 tokenizer config '{path}' does not exist.", path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Qwen2 tokenizer config '{path}' is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Qwen2 tokenizer config '{path}' is a JSON {root.ValueKind}; expected an object.");
            return new Qwen2TokenizerConfig(ReadAddedTokens(path, root), ReadPadToken(path, root));
        }
    }

    static List<Qwen2AddedToken> ReadAddedTokens(string path, JsonElement root)
    {
        if (!root.TryGetProperty("added_tokens_decoder", out var decoder) || decoder.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException(
                $"Qwen2 tokenizer config '{path}' has no \"added_tokens_decoder\" object; expected the added tokens by id " +
                "(\"151643\": {\"content\": \"<|endoftext|>\", ...}).");
        var tokens = new List<Qwen2AddedToken>();
        foreach (var entry in decoder.EnumerateObject())
        {
            string field = $"\"added_tokens_decoder\".\"{entry.Name}\"";
            if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                throw new InvalidDataException($"Qwen2 tokenizer config '{path}' has the key {field}; expected a non-negative token id.");
            if (entry.Value.ValueKind != JsonValueKind.Object
                || !entry.Value.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String
                || string.IsNullOrEmpty(content.GetString()))
                throw new InvalidDataException($"Qwen2 tokenizer config '{path}' has {field} without a non-empty \"content\" string.");
            // Qwen's added tokens are matched as exact text; the options that widen the match are not implemented.
            foreach (string option in (string[])["lstrip", "rstrip", "single_word"])
            {
                if (entry.Value.TryGetProperty(option, out var flag) && flag.ValueKind == JsonValueKind.True)
                    throw new InvalidDataException($"Qwen2 tokenizer config '{path}' sets {field}.\"{option}\" to true; only exact matching (false) is supported.");
            }
            bool special = entry.Value.TryGetProperty("special", out var specialFlag) && specialFlag.ValueKind == JsonValueKind.True;
            tokens.Add(new Qwen2AddedToken(id, content.GetString()!, special));
        }
        if (tokens.Count == 0) throw new InvalidDataException($"Qwen2 tokenizer config '{path}' has an empty \"added_tokens_decoder\".");
        var repeated = tokens.GroupBy(t => t.Content, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new InvalidDataException($"Qwen2 tokenizer config '{path}' gives the added token '{repeated.Key}' the ids {string.Join(" and ", repeated.Select(t => t.Id))}; expected one.");
        return tokens;
    }

    static string ReadPadToken(string path, JsonElement root)
    {
        if (!root.TryGetProperty("pad_token", out var pad)) return DefaultPadToken;
        return pad.ValueKind switch
        {
            JsonValueKind.String when !string.IsNullOrEmpty(pad.GetString()) => pad.GetString()!,
            JsonValueKind.Object when pad.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
                && !string.IsNullOrEmpty(content.GetString()) => content.GetString()!,
            _ => throw new InvalidDataException(
                $"Qwen2 tokenizer config '{path}' has \"pad_token\": {pad.GetRawText()}; expected the padding token's text (Qwen's is \"{DefaultPadToken}\")."),
        };
    }
}
