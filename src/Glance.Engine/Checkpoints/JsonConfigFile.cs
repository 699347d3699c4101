using System.Globalization;
using System.Text.Json;

namespace Glance.Engine.Checkpoints;

/// <summary>
/// A Hugging Face style config.json read field by field: an absent (or null) field takes the caller's default, the
/// class's documented one; a field of the wrong type fails naming the file, the field and the value found.
/// </summary>
public sealed class JsonConfigFile
{
    readonly JsonElement _root;

    JsonConfigFile(string path, JsonElement root)
    {
        Path = path;
        _root = root;
    }

    public string Path { get; }

    public static JsonConfigFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Config file '{path}' holds a JSON {document.RootElement.ValueKind}; expected an object.");
            return new JsonConfigFile(path, document.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Config file '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    public bool Has(string field) => _root.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null;

    public int Whole(string field, int fallback) => Field(field, out var v) ? AsInt(field, v) : fallback;

    public int RequiredWhole(string field) => Field(field, out var v) ? AsInt(field, v) : throw Missing(field, "an integer");

    public double Number(string field, double fallback) => Field(field, out var v) ? AsDouble(field, v) : fallback;

    public double? OptionalNumber(string field) => Field(field, out var v) ? AsDouble(field, v) : null;

    public bool Bool(string field, bool fallback) =>
        !Field(field, out var v) ? fallback
        : v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(field, v, "true or false"),
        };

    public string? Text(string field, string? fallback) =>
        !Field(field, out var v) ? fallback
        : v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(field, v, "a string");

    public int[]? Integers(string field, int[]? fallback) =>
        !Field(field, out var v) ? fallback
        : v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray().Select(e => AsInt(field, e))] : throw Wrong(field, v, "an array of integers");

    public string[]? Texts(string field, string[]? fallback) =>
        !Field(field, out var v) ? fallback
        : v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Wrong(field, v, "an array of strings"))]
            : throw Wrong(field, v, "an array of strings");

    /// <summary>An error naming this file, a field, the value found and what is supported.</summary>
    public InvalidDataException Unsupported(string field, object? found, string supported) =>
        new($"'{Path}': field \"{field}\" is {Format(found)}; {supported}.");

    bool Field(string field, out JsonElement value) =>
        _root.TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null;

    int AsInt(string field, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Wrong(field, v, "an integer");

    double AsDouble(string field, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(field, v, "a number");

    InvalidDataException Wrong(string field, JsonElement v, string expected) =>
        new($"'{Path}': field \"{field}\" is {v.GetRawText()}; expected {expected}.");

    InvalidDataException Missing(string field, string expected) =>
        new($"'{Path}' has no field \"{field}\"; expected {expected}.");

    static string Format(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Select(Format)) + "]",
        _ => value.ToString() ?? "",
    };
}
