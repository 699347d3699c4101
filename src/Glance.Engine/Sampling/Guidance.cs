using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Engine.Sampling;

/// <summary>True classifier-free guidance combination, as a pure tensor function.</summary>
public static class Guidance
{
    /// <summary>
    /// comb = uncond + scale * (cond - uncond); with norm rescale, comb * ||cond|| / ||comb|| along the last
    /// (feature) dimension, which keeps high scales from blowing up the prediction's magnitude.
    /// </summary>
    /// <param name="scale">[B] guidance scale per sample.</param>
    public static Tensor Combine(Tensor cond, Tensor uncond, Tensor scale, bool normRescale)
    {
        ArgumentNullException.ThrowIfNull(cond);
        ArgumentNullException.ThrowIfNull(uncond);
        ArgumentNullException.ThrowIfNull(scale);
        using var scope = NewDisposeScope();
        var broadcast = new long[cond.dim()];
        Array.Fill(broadcast, 1L);
        broadcast[0] = cond.shape[0];
        var c = cond.to(ScalarType.Float32);
        var u = uncond.to(ScalarType.Float32);
        var combined = u.Plus(c.sub(u).mul(scale.to(ScalarType.Float32).reshape(broadcast)));
        if (normRescale)
        {
            var condNorm = c.EuclideanNorm(-1, keepDimension: true);
            var combNorm = combined.EuclideanNorm(-1, keepDimension: true).ClampedBelow(1e-12);
            combined = combined.mul(condNorm.div(combNorm));
        }
        return combined.MoveToOuterDisposeScope();
    }
}
