using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Flux;

/// <summary>Sinusoidal embedding of a scalar per sample (timestep or guidance scale), as FLUX feeds its embedders.</summary>
internal static class TimestepEmbedding
{
    const double TimeFactor = 1000.0;
    const double MaxPeriod = 10000.0;

    /// <summary>[B] values -> [B, dim] float32 laid out [cos, sin] of (1000 * value) * 10000^(-k / (dim / 2)).</summary>
    public static Tensor Sinusoid(Tensor values, int dim)
    {
        if (dim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "expected an even embedding size");
        using var scope = NewDisposeScope();
        int half = dim / 2;
        var frequencies = TensorArithmetic.IntegerRange(0, half, ScalarType.Float32, values.device)
            .Times(-Math.Log(MaxPeriod) / half).exp();
        var arguments = values.to(ScalarType.Float32).Times(TimeFactor).unsqueeze(1).mul(frequencies.unsqueeze(0));
        var embedding = cat([arguments.cos(), arguments.sin()], -1);
        return scope.MoveToOuter(embedding);
    }
}

/// <summary>Rotation of every token and pair of head features as a unit complex number (cos + i sin), complex64, shaped [B or 1, 1, L, headDim / 2].</summary>
internal sealed record RopeAngles(Tensor Rotation) : IDisposable
{
    public void Dispose() => Rotation.Dispose();
}

/// <summary>
/// Multi-axis rotary position embedding: each position axis owns a slice of the head features, and
/// adjacent feature pairs (x0, x1) turn by position * theta^(-2k / axisDim).
/// </summary>
internal static class Rope
{
    /// <summary>Angles for ids [B, L, axes]; computed in float64 (large positions times small frequencies) and stored as float32.</summary>
    public static RopeAngles Angles(Tensor ids, IReadOnlyList<int> axesDim, double theta)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(axesDim);
        if (ids.dim() != 3 || ids.shape[2] != axesDim.Count)
            throw new ArgumentException($"Position ids have shape [{string.Join(", ", ids.shape)}]; expected [B, L, {axesDim.Count}].", nameof(ids));
        using var scope = NewDisposeScope();
        var positions = ids.to(ScalarType.Float64);
        var perAxis = new Tensor[axesDim.Count];
        for (int axis = 0; axis < axesDim.Count; axis++)
        {
            int dim = axesDim[axis];
            var omega = TensorArithmetic.IntegerRange(0, dim, ScalarType.Float64, ids.device, step: 2).Times(-Math.Log(theta) / dim).exp();
            perAxis[axis] = positions.select(2, axis).unsqueeze(-1).mul(omega);
        }
        var angles = cat(perAxis, -1).unsqueeze(1);
        var result = new RopeAngles(complex(angles.cos().to(ScalarType.Float32), angles.sin().to(ScalarType.Float32)));
        scope.MoveToOuter(result.Rotation);
        return result;
    }

    /// <summary>Rotates x [B, H, L, D] in float32 and returns it in x's dtype.</summary>
    public static Tensor Apply(Tensor x, RopeAngles angles)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(angles);
        using var scope = NewDisposeScope();
        // A pair (x0, x1) read as x0 + i x1 turns by one complex multiply: one pass instead of six.
        var pairs = x.to(ScalarType.Float32).reshape([.. x.shape[..^1], -1, 2]).contiguous();
        var rotated = view_as_real(view_as_complex(pairs).mul(angles.Rotation)).reshape(x.shape).to(x.dtype);
        return scope.MoveToOuter(rotated);
    }
}
