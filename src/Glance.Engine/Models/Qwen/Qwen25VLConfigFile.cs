using System.Globalization;
using System.Text.Json;
using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.Qwen;

public sealed partial record Qwen25VLTextConfig
{
    const string FullAttention = "full_attention";

    /// <summary>
    /// The language model described by a transformers Qwen2_5_VLConfig file (text_encoder/config.json of a Qwen-Image
    /// snapshot, or Qwen2.5-VL-7B-Instruct's config.json).
    /// <list type="bullet">
    /// <item>Layouts: transformers before 4.52 wrote the language model's fields at the top level (model_type
    /// "qwen2_5_vl"); later versions also write a "text_config" section (model_type "qwen2_5_vl_text"), which they
    /// read instead. A field is taken from "text_config" when the section has it and from the top level otherwise; a
    /// field present in both with different values is refused, since the two generations of transformers would build
    /// different models from the file. A bare text config (model_type "qwen2_5_vl_text") is read as it is.</item>
    /// <item>Absent fields take Qwen2_5_VLTextConfig's constructor defaults (vocab_size 152064, hidden_size 8192,
    /// intermediate_size 29568, num_hidden_layers 80, num_attention_heads 64, num_key_value_heads 8 (null: as many as
    /// the query heads), rms_norm_eps 1e-5, rope_theta 1e6, max_position_embeddings 32768, hidden_act "silu").</item>
    /// <item>Rotary: "rope_scaling" (or transformers 5's "rope_parameters"), when present, must be plain rotary
    /// positions: rope_type / type "default" or "mrope" (transformers turns "mrope" into "default"); scaled variants
    /// (linear, dynamic, yarn, ...) are refused. Its mrope_section, when present, must be three widths summing to
    /// head_dim / 2 (16 + 24 + 24 = 64 for heads of 128). rope_theta may sit in that object (transformers 5) or beside
    /// it; both present and different is refused.</item>
    /// <item>hidden_act must be "silu"; sliding-window layers (use_sliding_window with max_window_layers below the
    /// layer count, or layer_types other than "full_attention") are refused. head_dim, when written, must equal
    /// hidden_size / num_attention_heads, which is what Qwen2.5-VL's attention uses.</item>
    /// </list>
    /// Every refusal is an <see cref="InvalidDataException"/> naming the file, the field, the value found and what is
    /// supported. Vision fields, token ids, dropout and torch_dtype are ignored.
    /// </summary>
    public static Qwen25VLTextConfig FromHuggingFace(string configJsonPath)
    {
        // transformers would pass a null to the config class as None, which only num_key_value_heads and the rotary
        // object accept; the reads below handle those two nulls themselves.
        var file = JsonConfigFile.Read(configJsonPath, nullIsAbsent: false);
        var layout = new Layout(file);

        string activation = layout.Text("hidden_act", "silu");
        if (activation != "silu")
            throw layout.Holder("hidden_act").Unsupported("hidden_act", activation, "supported: \"silu\" (the MLP is down(silu(gate x) * up x))");

        int hidden = layout.Whole("hidden_size", 8192);
        int heads = layout.Whole("num_attention_heads", 64);
        int layers = layout.Whole("num_hidden_layers", 80);
        int kvHeads = layout.Holder("num_key_value_heads").Kind("num_key_value_heads") == JsonValueKind.Null
            ? heads
            : layout.Whole("num_key_value_heads", 8);
        int headDim = heads > 0 ? hidden / heads : 0;
        if (layout.Has("head_dim") && layout.Whole("head_dim", headDim) != headDim)
        {
            throw layout.Holder("head_dim").Unsupported("head_dim", layout.Whole("head_dim", headDim),
                $"supported: hidden_size / num_attention_heads = {hidden} / {heads} = {headDim}, the width Qwen2.5-VL's attention uses");
        }
        CheckFullAttention(layout, layers);
        double ropeTheta = RotaryBase(layout, headDim);

        var config = new Qwen25VLTextConfig(
            VocabSize: layout.Whole("vocab_size", 152064),
            HiddenSize: hidden,
            NumLayers: layers,
            NumHeads: heads,
            NumKeyValueHeads: kvHeads,
            HeadDim: headDim,
            IntermediateSize: layout.Whole("intermediate_size", 29568),
            RmsNormEps: layout.Number("rms_norm_eps", 1e-5),
            RopeTheta: ropeTheta,
            MaxPositionEmbeddings: layout.Whole("max_position_embeddings", 32768));
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{file.Path}' describes a Qwen2.5-VL language model that cannot be built: {e.Message}", e);
        }
        return config;
    }

    /// <summary>Refuses sliding-window layers, as transformers lays them out (layer_types, or use_sliding_window from max_window_layers on).</summary>
    static void CheckFullAttention(Layout layout, int layers)
    {
        if (layout.Has("layer_types"))
        {
            var types = layout.Holder("layer_types").Texts("layer_types", null)!;
            if (types.Any(t => t != FullAttention))
                throw layout.Holder("layer_types").Unsupported("layer_types", types, $"supported: \"{FullAttention}\" for every layer (no sliding-window attention)");
        }
        bool sliding = layout.Bool("use_sliding_window", false);
        int fullLayers = layout.Whole("max_window_layers", 80);
        if (sliding && fullLayers < layers)
        {
            throw layout.Holder("use_sliding_window").Unsupported("use_sliding_window", true,
                $"supported: false, or max_window_layers ({fullLayers}) at least num_hidden_layers ({layers}) (layers from max_window_layers on would use sliding-window attention)");
        }
    }

    /// <summary>
    /// Checks every rotary object in the file and returns rope_theta. The one that counts is text_config's when it has
    /// one, else the top level's; within an object's holder rope_scaling wins over rope_parameters, as transformers 5
    /// takes rope_scaling or rope_parameters.
    /// </summary>
    static double RotaryBase(Layout layout, int headDim)
    {
        var ropes = new List<(JsonConfigFile Holder, string Field)>();
        foreach (var holder in layout.Objects)
        {
            foreach (string field in (string[])["rope_scaling", "rope_parameters"])
            {
                if (holder.Kind(field) is JsonValueKind.Undefined or JsonValueKind.Null) continue;
                var rope = holder.Section(field)!;
                CheckRopeType(rope);
                CheckMropeSection(rope, headDim);
                ropes.Add((holder, field));
            }
        }
        double? inObject = null;
        string? source = null;
        if (ropes.Count > 0)
        {
            var (holder, field) = ropes[0];
            inObject = holder.Section(field)!.OptionalNumber("rope_theta");
            source = layout.Name(holder, field) + ".rope_theta";
        }
        double? beside = layout.Has("rope_theta") ? layout.Number("rope_theta", 0) : null;
        if (inObject is { } a && beside is { } b && a != b)
        {
            throw layout.Holder("rope_theta").Unsupported("rope_theta", b,
                string.Create(CultureInfo.InvariantCulture, $"expected the value that \"{source}\" gives ({a}); transformers 5 would use that one, earlier versions this one"));
        }
        return inObject ?? beside ?? 1e6;
    }

    static void CheckRopeType(JsonConfigFile rope)
    {
        const string supported = "supported: \"default\" or \"mrope\" (plain rotary positions; scaled variants are not implemented)";
        static string Plain(string type) => type == "mrope" ? "default" : type;
        string? ropeType = rope.Text("rope_type", null);
        string? legacyType = rope.Text("type", null);
        if (ropeType is not null && Plain(ropeType) != "default") throw rope.Unsupported("rope_type", ropeType, supported);
        if (legacyType is not null && Plain(legacyType) != "default") throw rope.Unsupported("type", legacyType, supported);
    }

    static void CheckMropeSection(JsonConfigFile rope, int headDim)
    {
        if (!rope.Has("mrope_section")) return;
        var sections = rope.Integers("mrope_section", null)!;
        // transformers splits the head's channels (cos/sin of width head_dim) by mrope_section * 2.
        if (sections.Length != 3 || sections.Any(s => s < 0) || sections.Sum() * 2 != headDim)
        {
            throw rope.Unsupported("mrope_section", sections,
                $"expected three non-negative widths (temporal, height, width) summing to head_dim / 2 = {headDim / 2}");
        }
    }

    /// <summary>
    /// Where each field is read: the "text_config" section when it has the field, else the top level. Fields present
    /// in both must agree.
    /// </summary>
    sealed class Layout
    {
        static readonly string[] SupportedTypes = ["qwen2_5_vl", "qwen2_5_vl_text"];
        readonly JsonConfigFile _top;
        readonly JsonConfigFile? _text;

        public Layout(JsonConfigFile top)
        {
            _top = top;
            string? modelType = top.Text("model_type", null);
            if (modelType is not null && !SupportedTypes.Contains(modelType))
                throw top.Unsupported("model_type", modelType, "supported: \"qwen2_5_vl\" (or a bare \"qwen2_5_vl_text\" language-model config)");
            _text = top.Kind("text_config") == JsonValueKind.Null ? null : top.Section("text_config");
            if (_text?.Text("model_type", null) is { } textType && textType != "qwen2_5_vl_text")
                throw _text.Unsupported("model_type", textType, "supported: \"qwen2_5_vl_text\"");
        }

        /// <summary>The objects fields are read from: text_config (when the file has one), then the top level.</summary>
        public IEnumerable<JsonConfigFile> Objects => _text is null ? [_top] : [_text, _top];

        /// <summary>A field's full name in the file, for messages.</summary>
        public string Name(JsonConfigFile holder, string field) => ReferenceEquals(holder, _text) ? "text_config." + field : field;

        public bool Has(string field) => Holders(field).Any();

        /// <summary>The object that holds the field (text_config first); the top level when neither does, so that defaults are reported there.</summary>
        public JsonConfigFile Holder(string field) => Holders(field).FirstOrDefault() ?? _top;

        /// <summary>The objects that hold the field, non-null: text_config first, then the top level.</summary>
        public IEnumerable<JsonConfigFile> Holders(string field)
        {
            if (_text is not null && _text.Kind(field) is not (JsonValueKind.Undefined or JsonValueKind.Null)) yield return _text;
            if (_top.Kind(field) is not (JsonValueKind.Undefined or JsonValueKind.Null)) yield return _top;
        }

        public int Whole(string field, int fallback) => Agreed(field, f => f.Whole(field, fallback), fallback);

        public double Number(string field, double fallback) => Agreed(field, f => f.Number(field, fallback), fallback);

        public string Text(string field, string fallback) => Agreed(field, f => f.Text(field, fallback)!, fallback);

        public bool Bool(string field, bool fallback) => Agreed(field, f => f.Bool(field, fallback), fallback);

        T Agreed<T>(string field, Func<JsonConfigFile, T> read, T fallback)
        {
            var holders = Holders(field).ToArray();
            if (holders.Length == 0)
            {
                // A null still reaches the typed read, which refuses it naming the field.
                return _text is not null && _text.Kind(field) == JsonValueKind.Null ? read(_text)
                    : _top.Kind(field) == JsonValueKind.Null ? read(_top)
                    : fallback;
            }
            T value = read(holders[0]);
            if (holders.Length == 2)
            {
                T other = read(holders[1]);
                if (!EqualityComparer<T>.Default.Equals(value, other))
                {
                    throw _top.Unsupported(field, other,
                        string.Create(CultureInfo.InvariantCulture, $"expected the value of \"text_config.{field}\" ({value}): transformers 4.52 and later read text_config, earlier versions the top level, so the file describes two different models"));
                }
            }
            return value;
        }
    }
}
