using System.Globalization;
using System.Text.Json;

namespace Glance.Engine.Checkpoints;

/// <summary>
/// A Hugging Face style config.json (transformers or diffusers) read field by field: an absent field takes the
/// caller's default, the class's documented one; a field of the wrong type, or a value the caller does not support,
/// fails naming the file, the field, the value found and what is expected.
/// </summary>
public sealed class JsonConfigFile
{
    readonly JsonElement _object;
    readonly string _prefix; // "text_config." in a nested object's view, so that errors name the whole path
    readonly bool _nullIsAbsent;

    JsonConfigFile(string path, JsonElement obj, string prefix, bool nullIsAbsent)
    {
        Path = path;
        _object = obj;
        _prefix = prefix;
        _nullIsAbsent = nullIsAbsent;
    }

    public string Path { get; }

    /// <param name="path">The config.json to read.</param>
    /// <param name="nullIsAbsent">
    /// transformers and diffusers hand a JSON null to the class's constructor as None. With true, a null field takes
    /// the default, as None does for diffusers' Optional fields (the transformer's out_channels, the scheduler's
    /// shift_terminal). With false, every typed read refuses a null as a value of the wrong type, for classes whose
    /// fields None would break; fields that may be null are then asked with <see cref="Has"/>.
    /// </param>
    public static JsonConfigFile Read(string path, bool nullIsAbsent = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
        try
        {
            // As text, so that a byte order mark some editors write is skipped.
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Config file '{path}' holds a JSON {document.RootElement.ValueKind}; expected an object.");
            return new JsonConfigFile(path, document.RootElement.Clone(), "", nullIsAbsent);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Config file '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Whether the field is present and not null.</summary>
    public bool Has(string field) => _object.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>The field's JSON kind; <see cref="JsonValueKind.Undefined"/> when it is absent.</summary>
    public JsonValueKind Kind(string field) => _object.TryGetProperty(field, out var value) ? value.ValueKind : JsonValueKind.Undefined;

    /// <summary>A nested object, such as a CLIPModel config's "text_config", read by the same rules; null when absent.</summary>
    public JsonConfigFile? Section(string field) =>
        !Field(field, out var v) ? null
        : v.ValueKind == JsonValueKind.Object ? new JsonConfigFile(Path, v, $"{Name(field)}.", _nullIsAbsent)
        : throw Wrong(field, v, "an object");

    public int Whole(string field, int fallback) => Field(field, out var v) ? AsInt(field, v) : fallback;

    public double Number(string field, double fallback) => Field(field, out var v) ? AsDouble(field, v) : fallback;

    public double? OptionalNumber(string field) => Field(field, out var v) ? AsDouble(field, v) : null;

    public bool Bool(string field, bool fallback) => OptionalBool(field) ?? fallback;

    public bool? OptionalBool(string field) =>
        !Field(field, out var v) ? null
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

    public double[]? Numbers(string field, double[]? fallback) =>
        !Field(field, out var v) ? fallback
        : v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray().Select(e => AsDouble(field, e))] : throw Wrong(field, v, "an array of numbers");

    public bool[]? Bools(string field, bool[]? fallback) =>
        !Field(field, out var v) ? fallback
        : v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Select(e => e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Wrong(field, v, "an array of true / false values"),
            })]
            : throw Wrong(field, v, "an array of true / false values");

    public string[]? Texts(string field, string[]? fallback) =>
        !Field(field, out var v) ? fallback
        : v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Wrong(field, v, "an array of strings"))]
            : throw Wrong(field, v, "an array of strings");

    /// <summary>An error naming this file, a field, the value found and what is supported.</summary>
    public InvalidDataException Unsupported(string field, object? found, string supported) => Error(field, Format(found), supported);

    /// <summary><see cref="Unsupported"/> quoting the field's value as the file writes it.</summary>
    public InvalidDataException UnsupportedAsWritten(string field, string supported) =>
        Error(field, _object.TryGetProperty(field, out var v) ? v.GetRawText() : "absent", supported);

    /// <summary><see cref="Unsupported"/> for an absent field whose default is what is not supported.</summary>
    public InvalidDataException UnsupportedDefault(string field, object? fallback, string supported) =>
        Error(field, $"absent (default {Format(fallback)})", supported);

    bool Field(string field, out JsonElement value) =>
        _object.TryGetProperty(field, out value) && (value.ValueKind != JsonValueKind.Null || !_nullIsAbsent);

    string Name(string field) => _prefix + field;

    int AsInt(string field, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Wrong(field, v, "an integer");

    double AsDouble(string field, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) ? d : throw Wrong(field, v, "a number");

    InvalidDataException Error(string field, string found, string supported) =>
        new($"'{Path}': field \"{Name(field)}\" is {found}; {supported}.");

    InvalidDataException Wrong(string field, JsonElement v, string expected) => Error(field, v.GetRawText(), $"expected {expected}");

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
