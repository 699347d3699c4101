using System.Text.Encodings.Web;
using System.Text.Json;
using Glance.Engine.Text;

namespace Glance.Cli.Commands;

/// <summary>
/// `glance tokenize --encoder qwen`: a Qwen2 tokenizer folder's ids for a text, each with its token and text; with
/// --template, the ids of Qwen-Image's templated prompt as its pipeline cuts them, and where its drop of 34 falls.
/// </summary>
internal static class QwenTokenizeReport
{
    // Pieces are shown as JSON strings, control characters escaped and other text as it is.
    static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Run(string folder, string text, bool template, bool json, TextWriter output, TextWriter error)
    {
        Qwen2Tokenizer tokenizer;
        try
        {
            tokenizer = Qwen2Tokenizer.Load(folder);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            error.WriteLine(e.Message);
            return 2;
        }
        var (ids, count) = template ? QwenImagePromptTemplate.Encode(tokenizer, text) : Untemplated(tokenizer.Encode(text));
        int? prefixTokens = template ? QwenImagePromptTemplate.CountPrefixTokens(tokenizer) : null;
        var pieces = ids.Select((id, index) => new { index, id, token = tokenizer.TokenOf(id), text = tokenizer.Decode([id]) }).ToList();
        int? dropIndex = template ? QwenImagePromptTemplate.DroppedTokens : null;
        bool truncated = template && count > QwenImagePromptTemplate.MaxTokens;

        if (json)
        {
            var report = new { encoder = "qwen", template, tokens = count, truncated, length = ids.Count, dropIndex, prefixTokens, ids, pieces };
            output.WriteLine(JsonSerializer.Serialize(report, ReportJson.Options));
            return 0;
        }
        output.WriteLine(template
            ? $"qwen, Qwen-Image template: {count} tokens{(truncated ? $", cut to {QwenImagePromptTemplate.MaxTokens}" : "")}; the pipeline drops the first {dropIndex} " +
              $"(the template's prefix is {prefixTokens} tokens with this tokenizer{(prefixTokens == dropIndex ? "" : ": they DISAGREE")})"
            : $"qwen: {count} tokens");
        foreach (var piece in pieces)
        {
            if (piece.index == dropIndex) output.WriteLine($"---- drop index {dropIndex}: the text encoder's output is kept from here ----");
            output.WriteLine($"{piece.index,5} {piece.id,7}  {JsonSerializer.Serialize(piece.text, Quoting)}");
        }
        return 0;
    }

    static (IReadOnlyList<int> Ids, int Count) Untemplated(IReadOnlyList<int> ids) => (ids, ids.Count);
}
