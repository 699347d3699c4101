using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.T5;

/// <summary>
/// Shape of a T5 v1.1 encoder (gated-GELU feed-forward, RMSNorm, relative position buckets, no biases). A Hugging Face
/// config.json becomes one through <see cref="FromHuggingFace"/> (T5ConfigFile.cs).
/// </summary>
public sealed partial record T5Config(
    int VocabSize,
    int DModel,
    int DKv,
    int DFf,
    int NumLayers,
    int NumHeads,
    int RelativeAttentionNumBuckets = 32,
    int RelativeAttentionMaxDistance = 128,
    double LayerNormEpsilon = 1e-6)
{
    /// <summary>The T5 v1.1 XXL encoder used by FLUX.1 as its context encoder.</summary>
    public static T5Config T5V11Xxl => new(32128, 4096, 64, 10240, 24, 64);

    /// <summary>A two-layer model for tests and the small built-in pipeline.</summary>
    public static T5Config Tiny => new(128, 64, 16, 128, 2, 4);

    public static IReadOnlyList<string> PresetNames { get; } = ["t5-v1_1-xxl", "tiny"];

    public static T5Config FromPreset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "t5-v1_1-xxl" => T5V11Xxl,
            "tiny" => Tiny,
            _ => throw new ArgumentException($"Unknown T5 preset '{name}'; expected one of: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
    }

    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0) throw new ArgumentException($"T5Config.{name} is {value}; expected a positive value.", name);
        }

        Positive(VocabSize, nameof(VocabSize));
        Positive(DModel, nameof(DModel));
        Positive(DKv, nameof(DKv));
        Positive(DFf, nameof(DFf));
        Positive(NumLayers, nameof(NumLayers));
        Positive(NumHeads, nameof(NumHeads));
        // Bidirectional buckets: half per direction, and a quarter of all buckets (per direction: half) exact.
        if (RelativeAttentionNumBuckets < 4 || RelativeAttentionNumBuckets % 4 != 0)
            throw new ArgumentException($"T5Config.RelativeAttentionNumBuckets is {RelativeAttentionNumBuckets}; expected a multiple of 4, at least 4.", nameof(RelativeAttentionNumBuckets));
        int maxExact = RelativeAttentionNumBuckets / 4;
        if (RelativeAttentionMaxDistance <= maxExact)
            throw new ArgumentException($"T5Config.RelativeAttentionMaxDistance is {RelativeAttentionMaxDistance}; expected more than {maxExact} (a quarter of the bucket count).", nameof(RelativeAttentionMaxDistance));
        if (!(LayerNormEpsilon > 0) || !double.IsFinite(LayerNormEpsilon))
            throw new ArgumentException($"T5Config.LayerNormEpsilon is {LayerNormEpsilon}; expected a small positive value such as 1e-6.", nameof(LayerNormEpsilon));
    }
}

/// <summary>
/// T5 encoder with the Hugging Face key names ("shared.weight", "encoder.block.N.layer.0.SelfAttention.q.weight", ...).
/// Forward maps token ids [B, L] (and an optional 1/0 attention mask [B, L]) to hidden states [B, L, DModel].
/// </summary>
public sealed class T5Encoder : nn.Module
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Embedding shared;
    public readonly T5EncoderCore encoder;
#pragma warning restore IDE1006, CA1051

    public T5Encoder(T5Config config, ScalarType? dtype = null, Device? device = null)
        : base(nameof(T5Encoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        shared = LoadableLayers.Embedding(config.VocabSize, config.DModel, device: device, dtype: dtype);
        encoder = new T5EncoderCore(config, dtype, device);
        RegisterComponents();
    }

    public T5Config Config { get; }

    /// <summary>Token ids [B, L] (int64) and an optional 1/0 mask [B, L] (0 = padding) to hidden states [B, L, DModel].</summary>
    public Tensor Forward(Tensor ids, Tensor? attentionMask = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.dim() != 2)
            throw new ArgumentException($"Token ids have shape [{string.Join(", ", ids.shape)}]; expected [batch, length].", nameof(ids));
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"Attention mask has shape [{string.Join(", ", attentionMask.shape)}]; expected the ids' shape [{string.Join(", ", ids.shape)}].", nameof(attentionMask));
        using var scope = NewDisposeScope();
        var hidden = shared.forward(ids);
        return encoder.forward(hidden, attentionMask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Hugging Face T5's bucket for each relative position (key index minus query index), bidirectional: positive
    /// offsets use the upper half of the buckets; within a half, offsets below half of it are exact and larger ones are
    /// log-spaced up to <paramref name="maxDistance"/>, beyond which they share the last bucket.
    /// </summary>
    public static Tensor RelativePositionBucket(Tensor relativePosition, int numBuckets, int maxDistance)
    {
        ArgumentNullException.ThrowIfNull(relativePosition);
        using var scope = NewDisposeScope();
        int half = numBuckets / 2;
        int maxExact = half / 2;
        var buckets = relativePosition.GreaterThan(0).to(ScalarType.Int64).Times((long)half);
        var distance = relativePosition.abs().to(ScalarType.Int64);
        var isSmall = distance.LessThan(maxExact);
        // clamp_min(1) only keeps log() finite for positions that take the exact branch anyway.
        var logRatio = distance.to(ScalarType.Float32).ClampedBelow(1).DividedBy(maxExact).log().DividedBy(Math.Log((double)maxDistance / maxExact));
        var large = logRatio.Times((double)(half - maxExact)).to(ScalarType.Int64).Plus((long)maxExact).ClampedAbove((long)(half - 1));
        return buckets.Plus(where(isSmall, distance, large)).MoveToOuterDisposeScope();
    }
}

/// <summary>The "encoder" sub-tree: blocks sharing block 0's relative position bias, then a final RMSNorm.</summary>
public sealed class T5EncoderCore : nn.Module<Tensor, Tensor?, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ModuleList<T5Block> block;
    public readonly T5LayerNorm final_layer_norm;
#pragma warning restore IDE1006, CA1051

    internal T5EncoderCore(T5Config config, ScalarType? dtype, Device? device)
        : base(nameof(T5EncoderCore))
    {
        var blocks = new T5Block[config.NumLayers];
        for (int i = 0; i < blocks.Length; i++) blocks[i] = new T5Block(config, hasRelativeBias: i == 0, dtype, device);
        block = nn.ModuleList(blocks);
        final_layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, dtype, device);
        RegisterComponents();
    }

    /// <summary>Embedded tokens [B, L, D] and optional mask [B, L] to final hidden states [B, L, D].</summary>
    public override Tensor forward(Tensor input, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        long length = input.shape[1];
        var bias = block[0].SelfAttentionLayer.SelfAttention.PositionBias(length, length);
        if (attentionMask is not null)
        {
            // Padding keys get the most negative finite score; every query still sees its own real tokens.
            var masked = attentionMask.EqualTo(0).unsqueeze(1).unsqueeze(1);
            var penalty = zeros(masked.shape, dtype: bias.dtype, device: bias.device).MaskedFill(masked, MostNegative(bias.dtype));
            bias = bias.Plus(penalty);
        }
        var hidden = input.alias();
        foreach (var layer in block)
        {
            var next = layer.forward(hidden, bias);
            hidden.Dispose();
            hidden = next;
        }
        return final_layer_norm.forward(hidden).MoveToOuterDisposeScope();
    }

    static double MostNegative(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        ScalarType.Float64 => double.MinValue,
        _ => float.MinValue,
    };
}

/// <summary>One encoder block: layer.0 is self-attention, layer.1 the gated feed-forward.</summary>
public sealed class T5Block : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ModuleList<nn.Module> layer;
#pragma warning restore IDE1006, CA1051

    internal T5Block(T5Config config, bool hasRelativeBias, ScalarType? dtype, Device? device)
        : base(nameof(T5Block))
    {
        layer = nn.ModuleList<nn.Module>(
            new T5LayerSelfAttention(config, hasRelativeBias, dtype, device),
            new T5LayerFeedForward(config, dtype, device));
        RegisterComponents();
    }

    public T5LayerSelfAttention SelfAttentionLayer => (T5LayerSelfAttention)layer[0];

    public T5LayerFeedForward FeedForwardLayer => (T5LayerFeedForward)layer[1];

    public override Tensor forward(Tensor input, Tensor positionBias)
    {
        using var attended = SelfAttentionLayer.forward(input, positionBias);
        return FeedForwardLayer.forward(attended);
    }
}

/// <summary>Pre-norm self-attention with a residual connection.</summary>
public sealed class T5LayerSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly T5Attention SelfAttention;
    public readonly T5LayerNorm layer_norm;
#pragma warning restore IDE1006, CA1051

    internal T5LayerSelfAttention(T5Config config, bool hasRelativeBias, ScalarType? dtype, Device? device)
        : base(nameof(T5LayerSelfAttention))
    {
        SelfAttention = new T5Attention(config, hasRelativeBias, dtype, device);
        layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor positionBias)
    {
        using var normed = layer_norm.forward(input);
        using var attended = SelfAttention.forward(normed, positionBias);
        return input.Plus(attended);
    }
}

/// <summary>Pre-norm gated-GELU feed-forward with a residual connection.</summary>
public sealed class T5LayerFeedForward : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly T5DenseGatedGelu DenseReluDense;
    public readonly T5LayerNorm layer_norm;
#pragma warning restore IDE1006, CA1051

    internal T5LayerFeedForward(T5Config config, ScalarType? dtype, Device? device)
        : base(nameof(T5LayerFeedForward))
    {
        DenseReluDense = new T5DenseGatedGelu(config, dtype, device);
        layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var normed = layer_norm.forward(input);
        using var transformed = DenseReluDense.forward(normed);
        return input.Plus(transformed);
    }
}

/// <summary>wo(gelu_tanh(wi_0 x) * wi_1 x), without biases.</summary>
public sealed class T5DenseGatedGelu : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Linear wi_0;
    public readonly Linear wi_1;
    public readonly Linear wo;
#pragma warning restore IDE1006, CA1051

    internal T5DenseGatedGelu(T5Config config, ScalarType? dtype, Device? device)
        : base(nameof(T5DenseGatedGelu))
    {
        wi_0 = LoadableLayers.Linear(config.DModel, config.DFf, hasBias: false, device: device, dtype: dtype);
        wi_1 = LoadableLayers.Linear(config.DModel, config.DFf, hasBias: false, device: device, dtype: dtype);
        wo = LoadableLayers.Linear(config.DFf, config.DModel, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var gate = nn.functional.gelu(wi_0.forward(input), GELU.Approximate.tanh);
        var gated = gate.mul(wi_1.forward(input));
        return wo.forward(gated).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Multi-head self-attention without biases and without the 1/sqrt(d) score scaling (T5 folds it into the weights).
/// Only block 0 owns the relative position bias table; the stack computes the bias once and passes it to every layer.
/// </summary>
public sealed class T5Attention : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Linear q;
    public readonly Linear k;
    public readonly Linear v;
    public readonly Linear o;
    public readonly Embedding? relative_attention_bias;
#pragma warning restore IDE1006, CA1051

    readonly int _heads;
    readonly int _dKv;
    readonly int _numBuckets;
    readonly int _maxDistance;

    internal T5Attention(T5Config config, bool hasRelativeBias, ScalarType? dtype, Device? device)
        : base(nameof(T5Attention))
    {
        _heads = config.NumHeads;
        _dKv = config.DKv;
        _numBuckets = config.RelativeAttentionNumBuckets;
        _maxDistance = config.RelativeAttentionMaxDistance;
        long inner = (long)config.NumHeads * config.DKv;
        q = LoadableLayers.Linear(config.DModel, inner, hasBias: false, device: device, dtype: dtype);
        k = LoadableLayers.Linear(config.DModel, inner, hasBias: false, device: device, dtype: dtype);
        v = LoadableLayers.Linear(config.DModel, inner, hasBias: false, device: device, dtype: dtype);
        o = LoadableLayers.Linear(inner, config.DModel, hasBias: false, device: device, dtype: dtype);
        if (hasRelativeBias)
            relative_attention_bias = LoadableLayers.Embedding(config.RelativeAttentionNumBuckets, config.NumHeads, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Bias [1, heads, queryLength, keyLength] from this layer's bucket table.</summary>
    public Tensor PositionBias(long queryLength, long keyLength)
    {
        if (relative_attention_bias is null)
            throw new InvalidOperationException("Only the first block's attention owns the relative position bias table.");
        using var scope = NewDisposeScope();
        var device = relative_attention_bias.weight!.device;
        var queryPositions = TensorArithmetic.IntegerRange(0, queryLength, ScalarType.Int64, device).unsqueeze(1);
        var keyPositions = TensorArithmetic.IntegerRange(0, keyLength, ScalarType.Int64, device).unsqueeze(0);
        var buckets = T5Encoder.RelativePositionBucket(keyPositions.sub(queryPositions), _numBuckets, _maxDistance);
        return relative_attention_bias.forward(buckets).permute(2, 0, 1).unsqueeze(0).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor input, Tensor positionBias)
    {
        using var scope = NewDisposeScope();
        long batch = input.shape[0], length = input.shape[1];
        Tensor Heads(Linear projection) => projection.forward(input).view(batch, length, _heads, _dKv).transpose(1, 2);
        // SDPA divides scores by sqrt(d); T5 does not, so multiply q by sqrt(d) first.
        var query = Heads(q).Times(Math.Sqrt(_dKv));
        var bias = positionBias.to(query.dtype);
        var attended = nn.functional.scaled_dot_product_attention(query, Heads(k), Heads(v), bias);
        var merged = attended.transpose(1, 2).reshape(batch, length, (long)_heads * _dKv);
        return o.forward(merged).MoveToOuterDisposeScope();
    }
}

/// <summary>T5's RMSNorm: no mean subtraction, no bias, variance in float32, scale by a learned weight.</summary>
public sealed class T5LayerNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Parameter weight;
#pragma warning restore IDE1006, CA1051

    readonly double _eps;

    internal T5LayerNorm(long dim, double eps, ScalarType? dtype, Device? device)
        : base(nameof(T5LayerNorm))
    {
        _eps = eps;
        weight = new Parameter(ones(dim, dtype: dtype, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var normed = RmsNormalization.Normalize(input, _eps, weight.dtype);
        return normed.mul(weight);
    }
}
