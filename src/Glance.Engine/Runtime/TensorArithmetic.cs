using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Runtime;

/// <summary>
/// Tensor arithmetic with .NET numbers that keeps every TorchSharp <see cref="Scalar"/> alive until libtorch has read it.
/// TorchSharp 0.107 passes a Scalar's raw handle to native code without keeping the Scalar reachable, so an implicit
/// Scalar (a double passed to add/mul/clamp, or the hidden alpha of add(Tensor)) can be finalised by the GC,
/// triggered by another thread, in the middle of the call: libtorch then reads freed memory ("Expected false to be
/// true" in c10::Scalar::toDouble, seen once in a 13,000-request soak). build/BannedSymbols.TorchSharp.txt bans
/// those overloads in the engine; these are the replacements.
/// </summary>
public static class TensorArithmetic
{
    /// <summary>Process-lifetime Scalars for the constants every forward pass uses.</summary>
    static readonly Scalar One = 1.ToScalar();

    public static Tensor Plus(this Tensor left, Tensor right) => left.add(right, One);

    public static Tensor PlusInPlace(this Tensor left, Tensor right) => left.add_(right, One);

    public static Tensor Plus(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.add(scalar, One);
    }

    public static Tensor PlusInPlace(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.add_(scalar, One);
    }

    /// <summary>Integer addition: keeps an integer tensor's dtype (a double Scalar would promote it to float).</summary>
    public static Tensor Plus(this Tensor tensor, long value)
    {
        using var scalar = value.ToScalar();
        return tensor.add(scalar, One);
    }

    public static Tensor Minus(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.sub(scalar);
    }

    /// <summary>value - tensor.</summary>
    public static Tensor SubtractedFrom(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.neg().add_(scalar, One);
    }

    public static Tensor Times(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.mul(scalar);
    }

    /// <summary>Integer multiplication: keeps an integer tensor's dtype.</summary>
    public static Tensor Times(this Tensor tensor, long value)
    {
        using var scalar = value.ToScalar();
        return tensor.mul(scalar);
    }

    public static Tensor TimesInPlace(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.mul_(scalar);
    }

    public static Tensor DividedBy(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.div(scalar);
    }

    public static Tensor Power(this Tensor tensor, double exponent)
    {
        using var scalar = exponent.ToScalar();
        return tensor.pow(scalar);
    }

    public static Tensor ClampedBelow(this Tensor tensor, double minimum)
    {
        using var scalar = minimum.ToScalar();
        return tensor.clamp_min(scalar);
    }

    public static Tensor ClampedAbove(this Tensor tensor, double maximum)
    {
        using var scalar = maximum.ToScalar();
        return tensor.clamp_max(scalar);
    }

    /// <summary>Integer upper bound: keeps an integer tensor's dtype.</summary>
    public static Tensor ClampedAbove(this Tensor tensor, long maximum)
    {
        using var scalar = maximum.ToScalar();
        return tensor.clamp_max(scalar);
    }

    public static Tensor Clamped(this Tensor tensor, double minimum, double maximum)
    {
        using var low = minimum.ToScalar();
        using var high = maximum.ToScalar();
        return tensor.clamp(low, high);
    }

    public static Tensor GreaterThan(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.gt(scalar);
    }

    public static Tensor LessThan(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.lt(scalar);
    }

    public static Tensor EqualTo(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.eq(scalar);
    }

    public static Tensor FillInPlace(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.fill_(scalar);
    }

    /// <summary>tensor with source added at the given rows of one dimension (torch.index_add, alpha 1).</summary>
    public static Tensor IndexPlus(this Tensor tensor, long dimension, Tensor index, Tensor source) =>
        tensor.index_add(dimension, index, source, One);

    public static Tensor IndexPlusInPlace(this Tensor tensor, long dimension, Tensor index, Tensor source) =>
        tensor.index_add_(dimension, index, source, One);

    public static Tensor MaskedFill(this Tensor tensor, Tensor mask, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.masked_fill(mask, scalar);
    }

    /// <summary>L2 norm over one dimension (linalg.vector_norm builds its ord Scalar the unsafe way).</summary>
    public static Tensor EuclideanNorm(this Tensor tensor, long dimension, bool keepDimension) =>
        tensor.square().sum([dimension], keepdim: keepDimension).sqrt();

    /// <summary>torch.arange(start, stop, step) over integers, as the given dtype.</summary>
    public static Tensor IntegerRange(long start, long stop, ScalarType dtype, Device? device, long step = 1)
    {
        using var first = start.ToScalar();
        using var end = stop.ToScalar();
        using var increment = step.ToScalar();
        return arange(first, end, increment, dtype: dtype, device: device);
    }

    /// <summary>torch.full with a value held for the duration of the call.</summary>
    public static Tensor Filled(long[] shape, double value, ScalarType dtype, Device? device)
    {
        using var scalar = value.ToScalar();
        return full(shape, scalar, dtype: dtype, device: device);
    }
}
