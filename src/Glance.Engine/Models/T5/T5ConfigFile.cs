using Glance.Engine.Checkpoints;

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
        // transformers would pass a null to T5Config as None, which none of these fields accepts.
        var f = JsonConfigFile.Read(configJsonPath, nullIsAbsent: false);
        string? modelType = f.Text("model_type", null);
        if (modelType is not null and not ("t5" or "mt5"))
            throw f.Unsupported("model_type", modelType, "supported: \"t5\" or \"mt5\" (one relative position bias table, in the first block)");
        CheckFeedForward(f);

        var config = new T5Config(
            VocabSize: f.Whole("vocab_size", 32128),
            DModel: f.Whole("d_model", 512),
            DKv: f.Whole("d_kv", 64),
            DFf: f.Whole("d_ff", 2048),
            NumLayers: f.Whole("num_layers", 6),
            NumHeads: f.Whole("num_heads", 8),
            RelativeAttentionNumBuckets: f.Whole("relative_attention_num_buckets", 32),
            RelativeAttentionMaxDistance: f.Whole("relative_attention_max_distance", 128),
            LayerNormEpsilon: f.Number("layer_norm_epsilon", 1e-6));
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
    static void CheckFeedForward(JsonConfigFile f)
    {
        const string supported = "supported: \"gated-gelu\" (T5 v1.1: gated GELU with the tanh approximation, gelu_new)";
        string? written = f.Text("feed_forward_proj", null);
        string projection = written ?? "relu";
        InvalidDataException Unsupported() => written is null
            ? f.UnsupportedDefault("feed_forward_proj", projection, supported)
            : f.Unsupported("feed_forward_proj", projection, supported);
        string[] parts = projection.Split('-');
        if (parts.Length > 2 || (parts.Length == 2 && parts[0] != "gated")) throw Unsupported();

        bool? gatedField = f.OptionalBool("is_gated_act");
        bool gated = gatedField ?? parts[0] == "gated";
        if (!gated)
        {
            throw gatedField is null
                ? Unsupported()
                : f.Unsupported("is_gated_act", false, "supported: true (the feed-forward is wo(act(wi_0 x) * wi_1 x))");
        }

        string? activationField = f.Text("dense_act_fn", null);
        string activation = activationField ?? (projection == GatedGelu ? "gelu_new" : parts[^1]);
        if (activation is not ("gelu_new" or "gelu_pytorch_tanh"))
        {
            throw activationField is null
                ? Unsupported()
                : f.Unsupported("dense_act_fn", activation, "supported: \"gelu_new\" or \"gelu_pytorch_tanh\" (GELU with the tanh approximation)");
        }
    }
}
