using System.Globalization;
using System.Text.Json;

namespace Glance.Engine.Lora;

/// <summary>
/// Alpha as recorded in a safetensors header: a plain "lora_alpha" entry, a PEFT-style adapter config JSON
/// (diffusers stores it under "lora_adapter_metadata", keys optionally prefixed such as "transformer.lora_alpha",
/// with per-module overrides in "alpha_pattern"), or kohya's "ss_network_alpha".
/// </summary>
internal sealed class LoraAlphaMetadata
{
    public const string PlainAlphaKey = "lora_alpha";
    public const string AdapterConfigKey = "lora_adapter_metadata";
    static readonly string[] ConfigKeys = [AdapterConfigKey, "adapter_config", "lora_config"];
    const string KohyaAlphaKey = "ss_network_alpha";

    readonly double? _alpha;
    readonly Dictionary<string, double> _pattern;

    LoraAlphaMetadata(double? alpha, Dictionary<string, double> pattern)
    {
        _alpha = alpha;
        _pattern = pattern;
    }

    public static LoraAlphaMetadata Parse(IReadOnlyDictionary<string, string> metadata, string path)
    {
        double? alpha = null;
        var pattern = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string key in ConfigKeys)
        {
            if (!metadata.TryGetValue(key, out string? json)) continue;
            using var document = ParseJson(json, key, path);
            if (document.RootElement.ValueKind != JsonValueKind.Object) continue;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (IsField(property.Name, "lora_alpha") && property.Value.ValueKind == JsonValueKind.Number)
                    alpha ??= property.Value.GetDouble();
                else if (IsField(property.Name, "alpha_pattern") && property.Value.ValueKind == JsonValueKind.Object)
                    foreach (var item in property.Value.EnumerateObject().Where(i => i.Value.ValueKind == JsonValueKind.Number))
                        pattern[item.Name] = item.Value.GetDouble();
            }
        }
        alpha ??= ParseNumber(metadata, PlainAlphaKey, path) ?? ParseNumber(metadata, KohyaAlphaKey, path);
        return new LoraAlphaMetadata(alpha, pattern);
    }

    /// <summary>The alpha the header gives this module, or null when it gives none.</summary>
    public double? AlphaFor(string fileModule, string module)
    {
        string? best = null;
        foreach (string key in _pattern.Keys)
        {
            if (Matches(fileModule, key) || Matches(module, key))
                if (best is null || key.Length > best.Length) best = key;
        }
        return best is null ? _alpha : _pattern[best];
    }

    /// <summary>Header entries that make <see cref="Parse"/> give back exactly these alphas and ranks.</summary>
    public static Dictionary<string, string> Describe(IReadOnlyList<(string Module, long Rank, double Alpha)> modules)
    {
        double commonAlpha = MostCommon(modules.Select(m => m.Alpha));
        long commonRank = MostCommon(modules.Select(m => m.Rank));
        bool uniform = modules.All(m => m.Alpha == commonAlpha);
        var config = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["r"] = commonRank,
            ["lora_alpha"] = commonAlpha,
            ["rank_pattern"] = modules.Where(m => m.Rank != commonRank).ToDictionary(m => m.Module, m => m.Rank, StringComparer.Ordinal),
            // Every module when alphas differ: a partial pattern could suffix-match a module it does not name.
            ["alpha_pattern"] = (uniform ? [] : modules).ToDictionary(m => m.Module, m => m.Alpha, StringComparer.Ordinal),
            ["target_modules"] = modules.Select(m => m.Module).ToArray(),
        };
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [AdapterConfigKey] = JsonSerializer.Serialize(config),
        };
        if (uniform)
            metadata[PlainAlphaKey] = commonAlpha.ToString("R", CultureInfo.InvariantCulture);
        return metadata;
    }

    static T MostCommon<T>(IEnumerable<T> values) where T : notnull =>
        values.GroupBy(v => v).OrderByDescending(g => g.Count()).First().Key;

    // "lora_alpha" or a component-prefixed "transformer.lora_alpha".
    static bool IsField(string name, string field) =>
        name == field || name.EndsWith("." + field, StringComparison.Ordinal);

    // PEFT matches pattern keys against the end of the module path, on a '.' boundary.
    static bool Matches(string module, string key) =>
        module == key || module.EndsWith("." + key, StringComparison.Ordinal);

    static JsonDocument ParseJson(string json, string key, string path)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Header metadata '{key}' in '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    static double? ParseNumber(IReadOnlyDictionary<string, string> metadata, string key, string path)
    {
        if (!metadata.TryGetValue(key, out string? text)) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        // kohya writes "None" when alpha was left unset.
        if (text is "None" or "null" or "") return null;
        throw new InvalidDataException($"Header metadata '{key}' in '{path}' is '{text}'; expected a number.");
    }
}
