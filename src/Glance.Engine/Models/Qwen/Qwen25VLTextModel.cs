using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Qwen;

/// <summary>
/// Shape of Qwen2.5-VL's language model (transformers' Qwen2_5_VLTextConfig): pre-RMSNorm decoder layers with
/// grouped-query causal attention (biased q/k/v, unbiased o), rotary positions and a SwiGLU MLP. A Hugging Face
/// config.json becomes one through <see cref="FromHuggingFace"/> (Qwen25VLConfigFile.cs).
/// </summary>
/// <param name="HeadDim">Width of one head; transformers derives it as HiddenSize / NumHeads, and so must it be here.</param>
/// <param name="MaxPositionEmbeddings">The longest sequence <see cref="Qwen25VLTextModel.Forward"/> accepts.</param>
public sealed partial record Qwen25VLTextConfig(
    int VocabSize,
    int HiddenSize,
    int NumLayers,
    int NumHeads,
    int NumKeyValueHeads,
    int HeadDim,
    int IntermediateSize,
    double RmsNormEps,
    double RopeTheta,
    int MaxPositionEmbeddings)
{
    /// <summary>Qwen/Qwen2.5-VL-7B-Instruct's language model, Qwen-Image's text_encoder.</summary>
    public static Qwen25VLTextConfig Qwen25VL7BInstruct => new(152064, 3584, 28, 28, 4, 128, 18944, 1e-6, 1e6, 128000);

    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0) throw new ArgumentException($"Qwen25VLTextConfig.{name} is {value}; expected a positive value.", name);
        }

        Positive(VocabSize, nameof(VocabSize));
        Positive(HiddenSize, nameof(HiddenSize));
        Positive(NumLayers, nameof(NumLayers));
        Positive(NumHeads, nameof(NumHeads));
        Positive(NumKeyValueHeads, nameof(NumKeyValueHeads));
        Positive(HeadDim, nameof(HeadDim));
        Positive(IntermediateSize, nameof(IntermediateSize));
        Positive(MaxPositionEmbeddings, nameof(MaxPositionEmbeddings));
        if (NumHeads % NumKeyValueHeads != 0)
            throw new ArgumentException($"Qwen25VLTextConfig.NumKeyValueHeads is {NumKeyValueHeads}; expected a divisor of NumHeads ({NumHeads}), each key/value head serving NumHeads / NumKeyValueHeads query heads.", nameof(NumKeyValueHeads));
        if ((long)HeadDim * NumHeads != HiddenSize)
            throw new ArgumentException($"Qwen25VLTextConfig.HeadDim is {HeadDim}; expected HiddenSize / NumHeads = {HiddenSize} / {NumHeads} (transformers derives it so), with no remainder.", nameof(HeadDim));
        if (HeadDim % 2 != 0)
            throw new ArgumentException($"Qwen25VLTextConfig.HeadDim is {HeadDim}; expected an even width (rotary positions turn pairs of channels).", nameof(HeadDim));
        if (!(RmsNormEps > 0) || !double.IsFinite(RmsNormEps))
            throw new ArgumentException($"Qwen25VLTextConfig.RmsNormEps is {RmsNormEps}; expected a small positive value such as 1e-6.", nameof(RmsNormEps));
        if (!(RopeTheta > 1) || !double.IsFinite(RopeTheta))
            throw new ArgumentException($"Qwen25VLTextConfig.RopeTheta is {RopeTheta}; expected a finite base above 1 such as 1e6.", nameof(RopeTheta));
    }
}

/// <summary>
/// Qwen2.5-VL's language model with its state-dict names relative to the language model ("embed_tokens.weight",
/// "layers.N.self_attn.q_proj.weight", "norm.weight"); <see cref="Qwen25VLCheckpointNames"/> maps both published key
/// layouts onto them. Text only: for a sequence without image tokens the multimodal rotary positions (three equal
/// position axes over the mrope sections) are ordinary 1-D rotary positions, which is what this model applies.
/// </summary>
public sealed class Qwen25VLTextModel : nn.Module
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Embedding embed_tokens;
    public readonly ModuleList<Qwen25VLDecoderLayer> layers;
    public readonly Qwen25VLRmsNorm norm;
#pragma warning restore IDE1006, CA1051

    readonly double[] _inverseFrequencies;

    /// <summary>Builds every parameter directly in <paramref name="dtype"/> on <paramref name="device"/>, so loading copies once.</summary>
    public Qwen25VLTextModel(Qwen25VLTextConfig config, ScalarType dtype, Device device)
        : base(nameof(Qwen25VLTextModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(device);
        config.Validate();
        Config = config;
        embed_tokens = LoadableLayers.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        var stack = new Qwen25VLDecoderLayer[config.NumLayers];
        for (int i = 0; i < stack.Length; i++) stack[i] = new Qwen25VLDecoderLayer(config, dtype, device);
        layers = nn.ModuleList(stack);
        norm = new Qwen25VLRmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        // theta^(-2j/d) for channel pair j: pair j turns channels j and j + d/2 (rotate-half pairing).
        _inverseFrequencies = [.. Enumerable.Range(0, config.HeadDim / 2).Select(j => Math.Pow(config.RopeTheta, -2.0 * j / config.HeadDim))];
        RegisterComponents();
    }

    public Qwen25VLTextConfig Config { get; }

    /// <summary>
    /// Token ids [B, T] (int64) and an optional mask [B, T] (1 = token, 0 = padding; null = every position is a token)
    /// to the hidden states after the final norm [B, T, HiddenSize] (transformers' hidden_states[-1]).
    /// <para>
    /// Padding, on the left or the right, never changes a token's output: a token attends to the tokens at or
    /// before it and never to padding, and its rotary position counts only the tokens before it (cumsum(mask) - 1,
    /// so a left-padded prompt has the same positions as alone). A padding position's output is meaningless and
    /// must be dropped by the caller; it is kept finite: a padding query attends to the tokens before it and to
    /// itself, so no query row is ever fully masked (a fully masked softmax row is 0/0 = NaN), and its position is
    /// clamped at 0 (left padding) where transformers writes 1 — neither reaches a token's output.
    /// </para>
    /// </summary>
    public Tensor Forward(Tensor ids, Tensor? mask)
    {
        ArgumentNullException.ThrowIfNull(ids);
        CheckInputs(ids, mask);
        using var scope = NewDisposeScope();
        var device = embed_tokens.weight!.device;
        var dtype = embed_tokens.weight!.dtype;
        long batch = ids.shape[0], length = ids.shape[1];
        var isToken = mask is null ? ones(batch, length, dtype: ScalarType.Bool, device: device) : mask.to(device).to(ScalarType.Bool);
        var positions = Positions(isToken);
        var (cos, sin) = RotaryTables(positions, dtype);
        var allowed = AllowedKeys(isToken);

        var hidden = embed_tokens.forward(ids.to(device));
        foreach (var layer in layers)
        {
            var next = layer.Forward(hidden, cos, sin, allowed);
            hidden.Dispose();
            hidden = next;
        }
        return norm.forward(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>Rotary position of each entry (float32): the number of tokens before it in its row, cumsum(mask) - 1, at least 0.</summary>
    static Tensor Positions(Tensor isToken)
    {
        using var counts = isToken.to(ScalarType.Int64).cumsum(1);
        using var shifted = counts.Plus(-1L);
        using var asFloat = shifted.to(ScalarType.Float32);
        return asFloat.ClampedBelow(0);
    }

    /// <summary>cos and sin [B, 1, T, HeadDim] of position x theta^(-2j/d), each pair's angle written at j and j + d/2.</summary>
    (Tensor Cos, Tensor Sin) RotaryTables(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        // float32 angles, as transformers computes them (autocast off) before casting cos and sin to the model dtype.
        var frequencies = tensor(_inverseFrequencies, device: positions.device).to(ScalarType.Float32);
        var angles = positions.unsqueeze(-1).mul(frequencies);
        var doubled = cat([angles, angles], -1).unsqueeze(1);
        return (doubled.cos().to(dtype).MoveToOuterDisposeScope(), doubled.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Boolean attention mask [B, 1, T, T] from a token mask [B, T] (bool), true where query i may attend key j: j &lt;= i
    /// and j is a token, or j = i. The diagonal keeps a padding query's row non-empty; a token's row gains nothing from
    /// it (its own key is a token). libtorch 2.10's CPU attention happens to return zeros for an empty row, but that
    /// is a kernel's choice, not a contract: a NaN there would also reach the tokens, as 0 x NaN through the values.
    /// </summary>
    internal static Tensor AllowedKeys(Tensor isToken)
    {
        using var scope = NewDisposeScope();
        long length = isToken.shape[1];
        var causal = ones(length, length, dtype: ScalarType.Bool, device: isToken.device).tril();
        var diagonal = eye(length, dtype: ScalarType.Bool, device: isToken.device);
        var tokenKeys = causal.unsqueeze(0).logical_and(isToken.unsqueeze(1));
        return tokenKeys.logical_or(diagonal.unsqueeze(0)).unsqueeze(1).MoveToOuterDisposeScope();
    }

    void CheckInputs(Tensor ids, Tensor? mask)
    {
        if (ids.dim() != 2 || ids.shape[0] < 1 || ids.shape[1] < 1)
            throw new ArgumentException($"Token ids have shape [{string.Join(", ", ids.shape)}]; expected [batch, length], both at least 1.", nameof(ids));
        if (ids.dtype != ScalarType.Int64)
            throw new ArgumentException($"Token ids have dtype {ids.dtype}; expected Int64.", nameof(ids));
        if (ids.shape[1] > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"Token ids have length {ids.shape[1]}; expected at most MaxPositionEmbeddings ({Config.MaxPositionEmbeddings}).", nameof(ids));
        using (var low = ids.min())
        using (var high = ids.max())
        {
            long lowest = low.item<long>(), highest = high.item<long>();
            if (lowest < 0 || highest >= Config.VocabSize)
                throw new ArgumentException($"Token ids span [{lowest}, {highest}]; expected ids in [0, {Config.VocabSize}).", nameof(ids));
        }
        if (mask is null) return;
        if (!mask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"Mask has shape [{string.Join(", ", mask.shape)}]; expected the ids' shape [{string.Join(", ", ids.shape)}].", nameof(mask));
        using var asLong = mask.to(ScalarType.Int64);
        using var low2 = asLong.min();
        using var high2 = asLong.max();
        if (low2.item<long>() < 0 || high2.item<long>() > 1)
            throw new ArgumentException($"Mask values span [{low2.item<long>()}, {high2.item<long>()}]; expected 1 (token) or 0 (padding).", nameof(mask));
    }
}

/// <summary>x + attention(input_layernorm(x)), then x + mlp(post_attention_layernorm(x)).</summary>
public sealed class Qwen25VLDecoderLayer : nn.Module
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Qwen25VLAttention self_attn;
    public readonly Qwen25VLMlp mlp;
    public readonly Qwen25VLRmsNorm input_layernorm;
    public readonly Qwen25VLRmsNorm post_attention_layernorm;
#pragma warning restore IDE1006, CA1051

    internal Qwen25VLDecoderLayer(Qwen25VLTextConfig config, ScalarType dtype, Device device)
        : base(nameof(Qwen25VLDecoderLayer))
    {
        self_attn = new Qwen25VLAttention(config, dtype, device);
        mlp = new Qwen25VLMlp(config, dtype, device);
        input_layernorm = new Qwen25VLRmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        post_attention_layernorm = new Qwen25VLRmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    /// <summary>Hidden states [B, T, D] with the rotary tables and the boolean attention mask of <see cref="Qwen25VLTextModel"/>.</summary>
    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, Tensor allowed)
    {
        using var scope = NewDisposeScope();
        var attended = hidden.Plus(self_attn.Forward(input_layernorm.forward(hidden), cos, sin, allowed));
        return attended.Plus(mlp.forward(post_attention_layernorm.forward(attended))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Grouped-query attention: NumHeads query heads over NumKeyValueHeads key/value heads, query head h reading key/value
/// head h / (NumHeads / NumKeyValueHeads) (transformers' repeat_kv). q, k and v have biases, o does not; the scale is
/// 1/sqrt(HeadDim), scaled_dot_product_attention's default. That function has no GQA argument here, so k and v are
/// repeated first.
/// </summary>
public sealed class Qwen25VLAttention : nn.Module
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Linear q_proj;
    public readonly Linear k_proj;
    public readonly Linear v_proj;
    public readonly Linear o_proj;
#pragma warning restore IDE1006, CA1051

    readonly int _heads;
    readonly int _kvHeads;
    readonly int _headDim;

    internal Qwen25VLAttention(Qwen25VLTextConfig config, ScalarType dtype, Device device)
        : base(nameof(Qwen25VLAttention))
    {
        _heads = config.NumHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        long queryWidth = (long)config.NumHeads * config.HeadDim, kvWidth = (long)config.NumKeyValueHeads * config.HeadDim;
        q_proj = LoadableLayers.Linear(config.HiddenSize, queryWidth, hasBias: true, device: device, dtype: dtype);
        k_proj = LoadableLayers.Linear(config.HiddenSize, kvWidth, hasBias: true, device: device, dtype: dtype);
        v_proj = LoadableLayers.Linear(config.HiddenSize, kvWidth, hasBias: true, device: device, dtype: dtype);
        o_proj = LoadableLayers.Linear(queryWidth, config.HiddenSize, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor input, Tensor cos, Tensor sin, Tensor allowed)
    {
        using var scope = NewDisposeScope();
        long batch = input.shape[0], length = input.shape[1];
        Tensor Heads(Linear projection, int count) => projection.forward(input).view(batch, length, count, _headDim).transpose(1, 2);
        var query = Rotate(Heads(q_proj, _heads), cos, sin);
        var key = Rotate(Heads(k_proj, _kvHeads), cos, sin);
        var value = Heads(v_proj, _kvHeads);
        long groups = _heads / _kvHeads;
        if (groups > 1)
        {
            key = key.repeat_interleave(groups, 1);
            value = value.repeat_interleave(groups, 1);
        }
        var attended = nn.functional.scaled_dot_product_attention(query, key, value, allowed);
        var merged = attended.transpose(1, 2).reshape(batch, length, (long)_heads * _headDim);
        return o_proj.forward(merged).MoveToOuterDisposeScope();
    }

    /// <summary>x cos + rotate_half(x) sin, rotate_half(x) = [-x2, x1] for the halves x1, x2 of the head's channels.</summary>
    static Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotated = cat([x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)], -1);
        return x.mul(cos).Plus(rotated.mul(sin)).MoveToOuterDisposeScope();
    }
}

/// <summary>down_proj(silu(gate_proj x) * up_proj x), without biases.</summary>
public sealed class Qwen25VLMlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Linear gate_proj;
    public readonly Linear up_proj;
    public readonly Linear down_proj;
#pragma warning restore IDE1006, CA1051

    internal Qwen25VLMlp(Qwen25VLTextConfig config, ScalarType dtype, Device device)
        : base(nameof(Qwen25VLMlp))
    {
        gate_proj = LoadableLayers.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false, device: device, dtype: dtype);
        up_proj = LoadableLayers.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false, device: device, dtype: dtype);
        down_proj = LoadableLayers.Linear(config.IntermediateSize, config.HiddenSize, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var gated = nn.functional.silu(gate_proj.forward(input)).mul(up_proj.forward(input));
        return down_proj.forward(gated).MoveToOuterDisposeScope();
    }
}

/// <summary>Qwen2RMSNorm: x / sqrt(mean(x^2) + eps) with the mean of squares in float32, cast back, then times the weight.</summary>
public sealed class Qwen25VLRmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Parameter weight;
#pragma warning restore IDE1006, CA1051

    readonly double _eps;

    internal Qwen25VLRmsNorm(long dim, double eps, ScalarType dtype, Device device)
        : base(nameof(Qwen25VLRmsNorm))
    {
        _eps = eps;
        weight = new Parameter(ones(dim, dtype: dtype, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var normed = RmsNormalization.Normalize(input, _eps, input.dtype);
        return weight.mul(normed);
    }
}
