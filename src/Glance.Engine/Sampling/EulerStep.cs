using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Engine.Sampling;

/// <summary>The flow-matching Euler update, as a pure tensor function.</summary>
public static class EulerStep
{
    /// <summary>
    /// x_next = x + (sigma_next - sigma) * v, per sample, computed in float32 whatever the model's dtype.
    /// </summary>
    /// <param name="latents">[B, ...] current latents.</param>
    /// <param name="velocity">[B, ...] predicted velocity (noise - x0).</param>
    /// <param name="sigma">[B] sigma each sample was evaluated at.</param>
    /// <param name="nextSigma">[B] sigma each sample moves to.</param>
    public static Tensor Apply(Tensor latents, Tensor velocity, Tensor sigma, Tensor nextSigma)
    {
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(velocity);
        ArgumentNullException.ThrowIfNull(sigma);
        ArgumentNullException.ThrowIfNull(nextSigma);
        if (!latents.shape.SequenceEqual(velocity.shape))
            throw new ArgumentException($"Velocity shape [{string.Join(", ", velocity.shape)}] differs from latents shape [{string.Join(", ", latents.shape)}].");
        long batch = latents.shape[0];
        if (sigma.numel() != batch || nextSigma.numel() != batch)
            throw new ArgumentException($"Expected {batch} sigmas and next sigmas; received {sigma.numel()} and {nextSigma.numel()}.");

        using var scope = NewDisposeScope();
        var broadcast = new long[latents.dim()];
        Array.Fill(broadcast, 1L);
        broadcast[0] = batch;
        var dt = nextSigma.to(ScalarType.Float32).sub(sigma.to(ScalarType.Float32)).reshape(broadcast);
        var next = latents.to(ScalarType.Float32).Plus(velocity.to(ScalarType.Float32).mul(dt));
        return next.MoveToOuterDisposeScope();
    }
}
