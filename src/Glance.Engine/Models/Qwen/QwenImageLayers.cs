using Glance.Engine.Lora;
using Glance.Engine.Models.Flux;
using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Qwen;

#pragma warning disable IDE1006 // field names are the checkpoint's key names

/// <summary>
/// diffusers RMSNorm with a learnable weight, eps 1e-6: the mean square in float32, the normalised values cast to the
/// weight's dtype before the weight is applied (so bfloat16 models round at the same point).
/// </summary>
internal sealed class QwenRmsNorm : nn.Module<Tensor, Tensor>
{
    const double Epsilon = 1e-6;

    readonly Parameter weight;

    public QwenRmsNorm(long dim, ScalarType dtype, Device device) : base(nameof(QwenRmsNorm))
    {
        weight = new Parameter(ones(dim, dtype: dtype, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var normalized = RmsNormalization.Normalize(input, Epsilon, weight.dtype);
        return normalized.mul(weight);
    }
}

/// <summary>time_text_embed: the 256-wide sinusoid of 1000 * sigma ([cos, sin]) lifted by timestep_embedder to model width.</summary>
internal sealed class QwenTimestepProjEmbeddings : nn.Module
{
    const int SinusoidDim = 256;

    readonly QwenTimestepEmbedding timestep_embedder;

    public QwenTimestepProjEmbeddings(long inner, ScalarType dtype, Device device) : base(nameof(QwenTimestepProjEmbeddings))
    {
        timestep_embedder = new QwenTimestepEmbedding(SinusoidDim, inner, dtype, device);
        RegisterComponents();
    }

    /// <summary>[B] sigmas -> [B, inner]; the sinusoid is computed in float32 and cast to the model dtype, as diffusers does.</summary>
    public Tensor Forward(Tensor sigmas, ScalarType dtype)
    {
        using var sinusoid = TimestepEmbedding.Sinusoid(sigmas, SinusoidDim);
        using var cast = sinusoid.to(dtype);
        return timestep_embedder.forward(cast);
    }
}

/// <summary>linear_1 -> SiLU -> linear_2.</summary>
internal sealed class QwenTimestepEmbedding : nn.Module<Tensor, Tensor>
{
    readonly LoraLinear linear_1;
    readonly LoraLinear linear_2;

    public QwenTimestepEmbedding(long inDim, long hidden, ScalarType dtype, Device device) : base(nameof(QwenTimestepEmbedding))
    {
        linear_1 = new LoraLinear(inDim, hidden, hasBias: true, dtype, device);
        linear_2 = new LoraLinear(hidden, hidden, hasBias: true, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var hidden = linear_1.forward(input);
        using var activated = nn.functional.silu(hidden);
        return linear_2.forward(activated);
    }
}

/// <summary>
/// diffusers FeedForward with "gelu-approximate": net.0 is a projection followed by GELU (tanh), net.1 a dropout
/// (identity at inference), net.2 the output projection. The indices are the checkpoint's.
/// </summary>
internal sealed class QwenFeedForward : nn.Module<Tensor, Tensor>
{
    readonly Sequential net;

    public QwenFeedForward(long dim, long hidden, ScalarType dtype, Device device) : base(nameof(QwenFeedForward))
    {
        net = nn.Sequential(
            new QwenGeluProjection(dim, hidden, dtype, device),
            nn.Identity(),
            new LoraLinear(hidden, dim, hasBias: true, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => net.forward(input);
}

/// <summary>diffusers GELU module: proj, then GELU with the tanh approximation.</summary>
internal sealed class QwenGeluProjection : nn.Module<Tensor, Tensor>
{
    readonly LoraLinear proj;

    public QwenGeluProjection(long dimIn, long dimOut, ScalarType dtype, Device device) : base(nameof(QwenGeluProjection))
    {
        proj = new LoraLinear(dimIn, dimOut, hasBias: true, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var projected = proj.forward(input);
        return FluxOps.GeluTanh(projected);
    }
}

/// <summary>
/// norm_out (diffusers AdaLayerNormContinuous without affine, eps 1e-6): linear(silu(temb)) gives scale first, then
/// shift, the reverse of the blocks' order.
/// </summary>
internal sealed class QwenAdaLayerNormContinuous : nn.Module
{
    readonly LoraLinear linear;

    public QwenAdaLayerNormContinuous(long inner, ScalarType dtype, Device device) : base(nameof(QwenAdaLayerNormContinuous))
    {
        linear = new LoraLinear(inner, 2 * inner, hasBias: true, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor temb)
    {
        using var scope = NewDisposeScope();
        var scaleShift = linear.forward(nn.functional.silu(temb)).unsqueeze(1).chunk(2, -1);
        return scope.MoveToOuter(FluxOps.Modulate(x, shift: scaleShift[1], scale: scaleShift[0]));
    }
}

#pragma warning restore IDE1006
