using Glance.Engine.Checkpoints;
using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Clip;

/// <summary>
/// Shape of a CLIP text encoder (transformers' CLIPTextConfig): pre-LayerNorm transformer with a causal mask, learned
/// absolute positions and a pooled output taken at the end-of-text token.
/// </summary>
public sealed record ClipTextConfig(
    int VocabSize,
    int HiddenSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int IntermediateSize,
    string HiddenAct,
    int MaxPositionEmbeddings,
    double LayerNormEps,
    int EosTokenId)
{
    /// <summary>
    /// The eos_token_id of configs written before transformers PR #24773 (FLUX.1's text_encoder among them). Such
    /// models pool at argmax(input_ids), where CLIP's end-of-text token sits because it is the largest id.
    /// </summary>
    public const int LegacyEosTokenId = 2;

    public static IReadOnlyList<string> SupportedActivations { get; } = ["quick_gelu", "gelu"];

    /// <summary>openai/clip-vit-large-patch14's text tower as FLUX.1's text_encoder/config.json describes it.</summary>
    public static ClipTextConfig ClipVitLargePatch14 => new(49408, 768, 12, 12, 3072, "quick_gelu", 77, 1e-5, LegacyEosTokenId);

    /// <summary>A two-layer model for tests; its end-of-text id is the largest id, as in CLIP's vocabulary.</summary>
    public static ClipTextConfig Tiny => new(64, 32, 2, 4, 64, "quick_gelu", 16, 1e-5, 63);

    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0) throw new ArgumentException($"ClipTextConfig.{name} is {value}; expected a positive value.", name);
        }

        Positive(VocabSize, nameof(VocabSize));
        Positive(HiddenSize, nameof(HiddenSize));
        Positive(NumHiddenLayers, nameof(NumHiddenLayers));
        Positive(NumAttentionHeads, nameof(NumAttentionHeads));
        Positive(IntermediateSize, nameof(IntermediateSize));
        Positive(MaxPositionEmbeddings, nameof(MaxPositionEmbeddings));
        if (HiddenSize % NumAttentionHeads != 0)
            throw new ArgumentException($"ClipTextConfig.HiddenSize is {HiddenSize}; expected a multiple of NumAttentionHeads ({NumAttentionHeads}).", nameof(HiddenSize));
        if (!SupportedActivations.Contains(HiddenAct, StringComparer.Ordinal))
            throw new ArgumentException($"ClipTextConfig.HiddenAct is '{HiddenAct}'; expected one of: {string.Join(", ", SupportedActivations)}.", nameof(HiddenAct));
        if (!(LayerNormEps > 0) || !double.IsFinite(LayerNormEps))
            throw new ArgumentException($"ClipTextConfig.LayerNormEps is {LayerNormEps}; expected a small positive value such as 1e-5.", nameof(LayerNormEps));
        if (EosTokenId < 0 || EosTokenId >= VocabSize)
            throw new ArgumentException($"ClipTextConfig.EosTokenId is {EosTokenId}; expected an id in [0, {VocabSize}).", nameof(EosTokenId));
    }

    /// <summary>
    /// Reads a Hugging Face config.json of a CLIPTextModel (or a CLIPModel's "text_config"). Absent fields take
    /// transformers' CLIPTextConfig defaults; a field of the wrong type or an unsupported value fails, naming the file,
    /// the field, the value and what is expected.
    /// </summary>
    public static ClipTextConfig FromHuggingFace(string configJsonPath)
    {
        // transformers would pass a null to CLIPTextConfig as None, which none of these fields accepts.
        var file = JsonConfigFile.Read(configJsonPath, nullIsAbsent: false);
        var fields = TextConfigOf(file);
        // Defaults are CLIPTextConfig.__init__'s (configuration_clip.py); they describe clip-vit-base-patch32.
        var config = new ClipTextConfig(
            fields.Whole("vocab_size", 49408),
            fields.Whole("hidden_size", 512),
            fields.Whole("num_hidden_layers", 12),
            fields.Whole("num_attention_heads", 8),
            fields.Whole("intermediate_size", 2048),
            fields.Text("hidden_act", "quick_gelu")!,
            fields.Whole("max_position_embeddings", 77),
            fields.Number("layer_norm_eps", 1e-5),
            fields.Whole("eos_token_id", 49407));
        if (!SupportedActivations.Contains(config.HiddenAct, StringComparer.Ordinal))
            throw fields.Unsupported("hidden_act", config.HiddenAct, "supported: " + string.Join(", ", SupportedActivations.Select(s => $"\"{s}\"")));
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"CLIP text config '{configJsonPath}', field \"{JsonName(e.ParamName)}\": {e.Message}", e);
        }
        return config;
    }

    /// <summary>A CLIPTextModel config is read as it is; a full CLIPModel config through its "text_config", as transformers does.</summary>
    static JsonConfigFile TextConfigOf(JsonConfigFile file)
    {
        const string supported = "supported: \"clip_text_model\" (or \"clip\" with a \"text_config\" object)";
        return file.Text("model_type", null) switch
        {
            null or "clip_text_model" => file,
            "clip" => file.Section("text_config") ?? throw file.Unsupported("model_type", "clip", supported + "; \"text_config\" is absent"),
            string other => throw file.Unsupported("model_type", other, supported),
        };
    }

    static string JsonName(string? property) => property switch
    {
        nameof(VocabSize) => "vocab_size",
        nameof(HiddenSize) => "hidden_size",
        nameof(NumHiddenLayers) => "num_hidden_layers",
        nameof(NumAttentionHeads) => "num_attention_heads",
        nameof(IntermediateSize) => "intermediate_size",
        nameof(HiddenAct) => "hidden_act",
        nameof(MaxPositionEmbeddings) => "max_position_embeddings",
        nameof(LayerNormEps) => "layer_norm_eps",
        nameof(EosTokenId) => "eos_token_id",
        _ => property ?? "?",
    };
}

/// <summary>
/// CLIP's text encoder with the key names of transformers' CLIPTextModel ("text_model.embeddings.token_embedding.weight",
/// "text_model.encoder.layers.N.self_attn.q_proj.weight", ...). There is no text projection: FLUX.1 takes the pooled
/// output as it is.
/// </summary>
public sealed class ClipTextModel : nn.Module
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ClipTextTransformer text_model;
#pragma warning restore IDE1006, CA1051

    public ClipTextModel(ClipTextConfig config, ScalarType? dtype = null, Device? device = null)
        : base(nameof(ClipTextModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        text_model = new ClipTextTransformer(config, dtype, device);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <summary>
    /// Token ids [B, L] (int64, L at most MaxPositionEmbeddings) to the final-LayerNorm hidden states [B, L, HiddenSize]
    /// and the pooled output [B, HiddenSize]: the final-LayerNorm state at each row's end-of-text token.
    /// </summary>
    public (Tensor LastHiddenState, Tensor Pooled) Forward(Tensor inputIds) => text_model.Forward(inputIds);
}

/// <summary>The "text_model" sub-tree: embeddings, encoder layers, final LayerNorm and the end-of-text pooling.</summary>
public sealed class ClipTextTransformer : nn.Module
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ClipTextEmbeddings embeddings;
    public readonly ClipEncoder encoder;
    public readonly LayerNorm final_layer_norm;
#pragma warning restore IDE1006, CA1051

    readonly ClipTextConfig _config;

    internal ClipTextTransformer(ClipTextConfig config, ScalarType? dtype, Device? device)
        : base(nameof(ClipTextTransformer))
    {
        _config = config;
        embeddings = new ClipTextEmbeddings(config, dtype, device);
        encoder = new ClipEncoder(config, dtype, device);
        final_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    public (Tensor LastHiddenState, Tensor Pooled) Forward(Tensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        CheckIds(inputIds);
        using var scope = NewDisposeScope();
        var hidden = final_layer_norm.forward(encoder.forward(embeddings.forward(inputIds)));
        var pooled = hidden.gather(1, EndOfTextPositions(inputIds).to(hidden.device).view(-1, 1, 1).expand(-1, 1, hidden.shape[2])).squeeze(1);
        return (hidden.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Per row, the position transformers' CLIPTextTransformer pools at. Legacy configs (eos_token_id 2): argmax of the
    /// ids, the first occurrence of the largest id. Otherwise the first position holding eos_token_id (0 when a row has
    /// none, as argmax over all zeros gives). Recent transformers decide "legacy" from the ids (every row's largest id
    /// is 49407) instead of the config; on CLIP's vocabulary both rules pick the first 49407.
    /// </summary>
    Tensor EndOfTextPositions(Tensor inputIds)
    {
        if (_config.EosTokenId == ClipTextConfig.LegacyEosTokenId) return inputIds.argmax(-1);
        using var isEos = inputIds.EqualTo(_config.EosTokenId);
        using var asInt = isEos.to(ScalarType.Int32);
        return asInt.argmax(-1);
    }

    void CheckIds(Tensor ids)
    {
        if (ids.dim() != 2 || ids.shape[1] < 1)
            throw new ArgumentException($"Token ids have shape [{string.Join(", ", ids.shape)}]; expected [batch, length] with length >= 1.", nameof(ids));
        if (ids.dtype != ScalarType.Int64)
            throw new ArgumentException($"Token ids have dtype {ids.dtype}; expected Int64.", nameof(ids));
        if (ids.shape[1] > _config.MaxPositionEmbeddings)
            throw new ArgumentException($"Token ids have length {ids.shape[1]}; expected at most MaxPositionEmbeddings ({_config.MaxPositionEmbeddings}).", nameof(ids));
        using var low = ids.min();
        using var high = ids.max();
        long lowest = low.item<long>(), highest = high.item<long>();
        if (lowest < 0 || highest >= _config.VocabSize)
            throw new ArgumentException($"Token ids span [{lowest}, {highest}]; expected ids in [0, {_config.VocabSize}).", nameof(ids));
    }
}

/// <summary>Token embedding plus the learned absolute position embedding of positions 0..L-1.</summary>
public sealed class ClipTextEmbeddings : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Embedding token_embedding;
    public readonly Embedding position_embedding;
#pragma warning restore IDE1006, CA1051

    internal ClipTextEmbeddings(ClipTextConfig config, ScalarType? dtype, Device? device)
        : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = LoadableLayers.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        position_embedding = LoadableLayers.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Ids [B, L] to embeddings [B, L, HiddenSize].</summary>
    public override Tensor forward(Tensor input)
    {
        using var tokens = token_embedding.forward(input);
        using var positions = position_embedding.weight!.narrow(0, 0, input.shape[1]);
        return tokens.Plus(positions);
    }
}

/// <summary>The "encoder" sub-tree: the stack of pre-LayerNorm layers under "layers".</summary>
public sealed class ClipEncoder : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ModuleList<ClipEncoderLayer> layers;
#pragma warning restore IDE1006, CA1051

    internal ClipEncoder(ClipTextConfig config, ScalarType? dtype, Device? device)
        : base(nameof(ClipEncoder))
    {
        var stack = new ClipEncoderLayer[config.NumHiddenLayers];
        for (int i = 0; i < stack.Length; i++) stack[i] = new ClipEncoderLayer(config, dtype, device);
        layers = nn.ModuleList(stack);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var hidden = input.alias();
        foreach (var layer in layers)
        {
            var next = layer.forward(hidden);
            hidden.Dispose();
            hidden = next;
        }
        return hidden;
    }
}

/// <summary>x + attention(layer_norm1(x)), then x + mlp(layer_norm2(x)).</summary>
public sealed class ClipEncoderLayer : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ClipAttention self_attn;
    public readonly LayerNorm layer_norm1;
    public readonly ClipMlp mlp;
    public readonly LayerNorm layer_norm2;
#pragma warning restore IDE1006, CA1051

    internal ClipEncoderLayer(ClipTextConfig config, ScalarType? dtype, Device? device)
        : base(nameof(ClipEncoderLayer))
    {
        self_attn = new ClipAttention(config, dtype, device);
        layer_norm1 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        mlp = new ClipMlp(config, dtype, device);
        layer_norm2 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var attended = input.Plus(self_attn.forward(layer_norm1.forward(input)));
        return attended.Plus(mlp.forward(layer_norm2.forward(attended))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Causal multi-head self-attention with biased q/k/v/out projections and the default 1/sqrt(head_dim) scale, through
/// scaled_dot_product_attention as transformers' default "sdpa" attention does. For bfloat16/half inputs libtorch's
/// kernels keep the scores and the softmax in float32; transformers' eager path also takes the softmax in float32
/// (softmax(dtype=float32)) but rounds the scores to the model dtype first.
/// </summary>
public sealed class ClipAttention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Linear k_proj;
    public readonly Linear v_proj;
    public readonly Linear q_proj;
    public readonly Linear out_proj;
#pragma warning restore IDE1006, CA1051

    readonly int _heads;
    readonly int _headDim;

    internal ClipAttention(ClipTextConfig config, ScalarType? dtype, Device? device)
        : base(nameof(ClipAttention))
    {
        _heads = config.NumAttentionHeads;
        _headDim = config.HiddenSize / config.NumAttentionHeads;
        k_proj = LoadableLayers.Linear(config.HiddenSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        v_proj = LoadableLayers.Linear(config.HiddenSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        q_proj = LoadableLayers.Linear(config.HiddenSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        out_proj = LoadableLayers.Linear(config.HiddenSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long batch = input.shape[0], length = input.shape[1];
        Tensor Heads(Linear projection) => projection.forward(input).view(batch, length, _heads, _headDim).transpose(1, 2);
        var attended = nn.functional.scaled_dot_product_attention(Heads(q_proj), Heads(k_proj), Heads(v_proj), is_casual: true);
        var merged = attended.transpose(1, 2).reshape(batch, length, (long)_heads * _headDim);
        return out_proj.forward(merged).MoveToOuterDisposeScope();
    }
}

/// <summary>fc2(act(fc1(x))) with quick_gelu (x * sigmoid(1.702 x)) or exact (erf) GELU.</summary>
public sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Linear fc1;
    public readonly Linear fc2;
#pragma warning restore IDE1006, CA1051

    const double QuickGeluFactor = 1.702;
    readonly bool _quickGelu;

    internal ClipMlp(ClipTextConfig config, ScalarType? dtype, Device? device)
        : base(nameof(ClipMlp))
    {
        _quickGelu = config.HiddenAct == "quick_gelu";
        fc1 = LoadableLayers.Linear(config.HiddenSize, config.IntermediateSize, hasBias: true, device: device, dtype: dtype);
        fc2 = LoadableLayers.Linear(config.IntermediateSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = fc1.forward(input);
        var activated = _quickGelu ? hidden.mul(hidden.Times(QuickGeluFactor).sigmoid()) : nn.functional.gelu(hidden);
        return fc2.forward(activated).MoveToOuterDisposeScope();
    }
}
