using Glance.Engine.Runtime;
using Glance.Engine.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Flux;

#pragma warning disable IDE1006 // field names are the checkpoint's key names

/// <summary>Linear -> SiLU -> Linear, lifting a timestep sinusoid or the pooled text vector to model width.</summary>
internal sealed class MlpEmbedder : nn.Module<Tensor, Tensor>
{
    readonly LoraLinear in_layer;
    readonly LoraLinear out_layer;

    public MlpEmbedder(long inDim, long hiddenDim, ScalarType dtype, Device device) : base(nameof(MlpEmbedder))
    {
        in_layer = new LoraLinear(inDim, hiddenDim, hasBias: true, dtype, device);
        out_layer = new LoraLinear(hiddenDim, hiddenDim, hasBias: true, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var hidden = in_layer.forward(input);
        using var activated = nn.functional.silu(hidden);
        return out_layer.forward(activated);
    }
}

/// <summary>RMS normalisation over the last dimension, computed in float32 whatever the model dtype, with a learnable scale.</summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    const double Epsilon = 1e-6;

    readonly Parameter scale;

    public RmsNorm(long dim, ScalarType dtype, Device device) : base(nameof(RmsNorm))
    {
        scale = new Parameter(ones(dim, dtype: dtype, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        // The reference casts back before applying the scale, so bfloat16 models round at the same point.
        using var normalized = RmsNormalization.Normalize(input, Epsilon, input.dtype);
        return normalized.mul(scale);
    }
}

/// <summary>Separate RMS norms for queries and keys, applied per head.</summary>
internal sealed class QkNorm : nn.Module
{
    readonly RmsNorm query_norm;
    readonly RmsNorm key_norm;

    public QkNorm(long headDim, ScalarType dtype, Device device) : base(nameof(QkNorm))
    {
        query_norm = new RmsNorm(headDim, dtype, device);
        key_norm = new RmsNorm(headDim, dtype, device);
        RegisterComponents();
    }

    /// <summary>Normalised q and k, in v's dtype.</summary>
    public (Tensor Query, Tensor Key) Forward(Tensor query, Tensor key, Tensor value)
    {
        using var q = query_norm.forward(query);
        using var k = key_norm.forward(key);
        return (q.to(value.dtype), k.to(value.dtype));
    }
}

/// <summary>Fused qkv projection, per-head QK norm and output projection of one stream.</summary>
internal sealed class SelfAttention : nn.Module
{
    readonly LoraLinear qkv;
    readonly QkNorm norm;
    readonly LoraLinear proj;

    public SelfAttention(FluxConfig config, ScalarType dtype, Device device) : base(nameof(SelfAttention))
    {
        qkv = new LoraLinear(config.HiddenSize, 3L * config.HiddenSize, hasBias: config.QkvBias, dtype, device);
        norm = new QkNorm(config.HeadDim, dtype, device);
        proj = new LoraLinear(config.HiddenSize, config.HiddenSize, hasBias: true, dtype, device);
        RegisterComponents();
    }

    public LoraLinear Qkv => qkv;

    public QkNorm Norm => norm;

    public LoraLinear Proj => proj;
}

/// <summary>
/// adaLN parameters from the conditioning vector: lin(silu(vec)) split into chunks of model width
/// (shift, scale, gate per modulated sub-layer), each shaped [B, 1, hidden] to broadcast over tokens.
/// </summary>
internal sealed class Modulation : nn.Module
{
    readonly LoraLinear lin;
    readonly int _chunks;

    public Modulation(long hidden, int chunks, ScalarType dtype, Device device) : base(nameof(Modulation))
    {
        _chunks = chunks;
        lin = new LoraLinear(hidden, chunks * hidden, hasBias: true, dtype, device);
        RegisterComponents();
    }

    public Tensor[] Forward(Tensor vec)
    {
        using var activated = nn.functional.silu(vec);
        using var projected = lin.forward(activated);
        using var perToken = projected.unsqueeze(1);
        return perToken.chunk(_chunks, -1);
    }
}

/// <summary>Helpers shared by the blocks.</summary>
internal static class FluxOps
{
    const double LayerNormEpsilon = 1e-6;

    /// <summary>LayerNorm without affine parameters, then (1 + scale) * x + shift.</summary>
    public static Tensor Modulate(Tensor x, Tensor shift, Tensor scale)
    {
        using var normalized = nn.functional.layer_norm(x, [x.shape[^1]], eps: LayerNormEpsilon);
        using var onePlusScale = scale.Plus(1.0);
        // One pass over the activations instead of a multiply and an add: elementwise passes, not matmuls, are
        // what grows fastest with the batch on a CPU.
        return shift.PlusProduct(normalized, onePlusScale);
    }

    public static Tensor GeluTanh(Tensor x) => nn.functional.gelu(x, GELU.Approximate.tanh);

    /// <summary>[B, L, 3 * heads * headDim] -> q, k, v each [B, heads, L, headDim].</summary>
    public static (Tensor Query, Tensor Key, Tensor Value) SplitHeads(Tensor qkv, int heads)
    {
        long headDim = qkv.shape[2] / (3L * heads);
        using var grouped = qkv.view(qkv.shape[0], qkv.shape[1], 3, heads, headDim).permute(2, 0, 3, 1, 4);
        var parts = grouped.unbind(0);
        return (parts[0], parts[1], parts[2]);
    }

    /// <summary>RoPE on q and k, then softmax attention with the default 1/sqrt(headDim) scale; returns [B, L, heads * headDim].</summary>
    public static Tensor Attention(Tensor query, Tensor key, Tensor value, RopeAngles rope)
    {
        using var scope = NewDisposeScope();
        var q = Rope.Apply(query, rope);
        var k = Rope.Apply(key, rope);
        var attended = nn.functional.scaled_dot_product_attention(q, k, value);
        var merged = attended.transpose(1, 2).reshape(attended.shape[0], attended.shape[2], -1);
        return scope.MoveToOuter(merged);
    }
}

#pragma warning restore IDE1006
