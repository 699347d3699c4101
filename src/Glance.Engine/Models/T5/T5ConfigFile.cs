using System.Globalization;
using System.Text.Json;

namespace Glance.Engine.Models.T5;

public sealed partial record T5Config
{
    const string GatedGelu = "gated-gelu";

    /// <summary>
    /// The encoder described by a Hugging Face transformers T5Config file (text_encoder_2/config.json of a FLUX.1
    /// snapshot).
    /// <list type="bullet">
    /// <item>Read: vocab_size, d_model, d_kv, d_ff, num_layers, num_heads, relative_attention_num_buckets,
    /// relative_attention_max_distance, layer_norm_epsilon, feed_forward_proj, and is_gated_act / dense_act_fn when
    /// present. Absent fields take T5Config's constructor defaults: 32128, 512, 64, 2048, 6, 8, 32, 128, 1e-6 and
    /// feed_forward_proj "relu".</item>
    /// <item>The feed-forward must be gated GELU with the tanh approximation, the only one <see cref="T5Encoder"/>
    /// has. transformers derives it from feed_forward_proj ("gated-gelu" means gated with gelu_new) and then lets
    /// is_gated_act and dense_act_fn from the file override the derived values, so a file may also say it with
    /// those two alone; gelu_pytorch_tanh is the same function as gelu_new. Anything else ("relu", "gated-silu",
    /// exact "gelu", is_gated_act false, or no feed-forward field at all, which means "relu") is refused as an
    /// <see cref="InvalidDataException"/> naming the file, the field, the value and what is supported.</item>
    /// <item>model_type, when present, must be "t5" or "mt5" (mT5 has the same modules): "umt5" gives every layer
    /// its own position bias table, which this encoder does not have.</item>
    /// </list>
    /// Other fields (dropout, decoder settings, torch_dtype, ...) are ignored.
    /// </summary>
    public static T5Config FromHuggingFace(string configJsonPath)
    {
        ArgumentNullException.ThrowIfNull(configJsonPath);
        if (!File.Exists(configJsonPath)) throw new FileNotFoundException($"T5 config '{configJsonPath}' does not exist.", configJsonPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(configJsonPath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{configJsonPath}' is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{configJsonPath}' holds a JSON {document.RootElement.ValueKind}; expected an object (a transformers T5Config).");
            return FromHuggingFace(new ConfigFields(document.RootElement, configJsonPath));
        }
    }

    static T5Config FromHuggingFace(ConfigFields f)
    {
        string? modelType = f.OptionalString("model_type");
        if (modelType is not null and not ("t5" or "mt5"))
            throw f.Unsupported("model_type", $"\"{modelType}\"", "\"t5\" or \"mt5\" (one relative position bias table, in the first block)");
        CheckFeedForward(f);

        var config = new T5Config(
            VocabSize: f.Int("vocab_size", 32128),
            DModel: f.Int("d_model", 512),
            DKv: f.Int("d_kv", 64),
            DFf: f.Int("d_ff", 2048),
            NumLayers: f.Int("num_layers", 6),
            NumHeads: f.Int("num_heads", 8),
            RelativeAttentionNumBuckets: f.Int("relative_attention_num_buckets", 32),
            RelativeAttentionMaxDistance: f.Int("relative_attention_max_distance", 128),
            LayerNormEpsilon: f.Double("layer_norm_epsilon", 1e-6));
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{f.Path}' describes a T5 encoder that cannot be built: {e.Message}", e);
        }
        return config;
    }

    /// <summary>transformers' reading of the feed-forward fields (see <see cref="FromHuggingFace(string)"/>), then the check.</summary>
    static void CheckFeedForward(ConfigFields f)
    {
        const string supported = "\"gated-gelu\" (T5 v1.1: gated GELU with the tanh approximation, gelu_new)";
        string? written = f.OptionalString("feed_forward_proj");
        string projection = written ?? "relu";
        string shown = written is null ? "absent (transformers' default \"relu\")" : $"\"{projection}\"";
        string[] parts = projection.Split('-');
        if (parts.Length > 2 || (parts.Length == 2 && parts[0] != "gated"))
            throw f.Unsupported("feed_forward_proj", shown, supported);

        bool? gatedField = f.OptionalBool("is_gated_act");
        bool gated = gatedField ?? parts[0] == "gated";
        if (!gated)
        {
            throw gatedField is null
                ? f.Unsupported("feed_forward_proj", shown, supported)
                : f.Unsupported("is_gated_act", "false", "true (the feed-forward is wo(act(wi_0 x) * wi_1 x))");
        }

        string? activationField = f.OptionalString("dense_act_fn");
        string activation = activationField ?? (projection == GatedGelu ? "gelu_new" : parts[^1]);
        if (activation is not ("gelu_new" or "gelu_pytorch_tanh"))
        {
            throw activationField is null
                ? f.Unsupported("feed_forward_proj", shown, supported)
                : f.Unsupported("dense_act_fn", $"\"{activation}\"", "\"gelu_new\" or \"gelu_pytorch_tanh\" (GELU with the tanh approximation)");
        }
    }

    /// <summary>Typed access to a config.json's fields with defaults; every error names the file and the field.</summary>
    readonly struct ConfigFields(JsonElement root, string path)
    {
        public string Path { get; } = path;

        public InvalidDataException Unsupported(string field, string value, string expected) =>
            new($"'{Path}': field \"{field}\" is {value}; supported: {expected}.");

        public int Int(string field, int fallback)
        {
            if (!root.TryGetProperty(field, out var value)) return fallback;
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int result)) return result;
            throw WrongType(field, value, "an integer");
        }

        public double Double(string field, double fallback)
        {
            if (!root.TryGetProperty(field, out var value)) return fallback;
            if (value.ValueKind == JsonValueKind.Number) return value.GetDouble();
            throw WrongType(field, value, "a number");
        }

        public string? OptionalString(string field)
        {
            if (!root.TryGetProperty(field, out var value)) return null;
            if (value.ValueKind == JsonValueKind.String) return value.GetString();
            throw WrongType(field, value, "a string");
        }

        public bool? OptionalBool(string field)
        {
            if (!root.TryGetProperty(field, out var value)) return null;
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw WrongType(field, value, "true or false"),
            };
        }

        InvalidDataException WrongType(string field, JsonElement value, string expected) =>
            new(string.Create(CultureInfo.InvariantCulture, $"'{Path}': field \"{field}\" is {value.GetRawText()} (a JSON {value.ValueKind}); expected {expected}."));
    }
}
