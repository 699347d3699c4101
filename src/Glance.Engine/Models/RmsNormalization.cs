using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Models;

/// <summary>
/// The RMS normalisation every family's norm shares (T5, FLUX.1's QK norm, Qwen-Image, Qwen2.5-VL): computed in float32
/// whatever the model dtype, then cast to the dtype the reference casts to before its learnable scale is applied.
/// </summary>
internal static class RmsNormalization
{
    /// <summary>x / sqrt(mean(x^2) + epsilon) over the last dimension, in <paramref name="resultType"/>.</summary>
    public static Tensor Normalize(Tensor input, double epsilon, ScalarType resultType)
    {
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float32);
        var inverseRms = x.square().mean([-1], keepdim: true).Plus(epsilon).rsqrt();
        return scope.MoveToOuter(x.mul(inverseRms).to(resultType));
    }
}
