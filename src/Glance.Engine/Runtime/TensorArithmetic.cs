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

    /// <summary>Runs one libtorch call with a Scalar that stays reachable until the call has returned, then frees it.</summary>
    static Tensor With(Scalar scalar, Func<Scalar, Tensor> call)
    {
        using (scalar) return call(scalar);
    }

    public static Tensor Plus(this Tensor left, Tensor right) => left.add(right, One);

    public static Tensor PlusInPlace(this Tensor left, Tensor right) => left.add_(right, One);

    public static Tensor Plus(this Tensor tensor, double value) => With(value.ToScalar(), s => tensor.add(s, One));

    public static Tensor PlusInPlace(this Tensor tensor, double value) => With(value.ToScalar(), s => tensor.add_(s, One));

    /// <summary>Integer addition: keeps an integer tensor's dtype (a double Scalar would promote it to float).</summary>
    public static Tensor Plus(this Tensor tensor, long value) => With(value.ToScalar(), s => tensor.add(s, One));

    /// <summary>tensor + a * b in one pass (broadcasting all three).</summary>
    public static Tensor PlusProduct(this Tensor tensor, Tensor a, Tensor b) => tensor.addcmul(a, b, One);

    public static Tensor Minus(this Tensor tensor, double value) => With(value.ToScalar(), tensor.sub);

    /// <summary>value - tensor.</summary>
    public static Tensor SubtractedFrom(this Tensor tensor, double value)
    {
        using var negated = tensor.neg();
        return With(value.ToScalar(), s => negated.add(s, One));
    }

    public static Tensor Times(this Tensor tensor, double value) => With(value.ToScalar(), tensor.mul);

    /// <summary>Integer multiplication: keeps an integer tensor's dtype.</summary>
    public static Tensor Times(this Tensor tensor, long value) => With(value.ToScalar(), tensor.mul);

    public static Tensor TimesInPlace(this Tensor tensor, double value) => With(value.ToScalar(), tensor.mul_);

    public static Tensor DividedBy(this Tensor tensor, double value) => With(value.ToScalar(), s => tensor.div(s));

    public static Tensor Power(this Tensor tensor, double exponent) => With(exponent.ToScalar(), tensor.pow);

    public static Tensor ClampedBelow(this Tensor tensor, double minimum) => With(minimum.ToScalar(), s => tensor.clamp_min(s));

    public static Tensor ClampedAbove(this Tensor tensor, double maximum) => With(maximum.ToScalar(), tensor.clamp_max);

    /// <summary>Integer upper bound: keeps an integer tensor's dtype.</summary>
    public static Tensor ClampedAbove(this Tensor tensor, long maximum) => With(maximum.ToScalar(), tensor.clamp_max);

    public static Tensor Clamped(this Tensor tensor, double minimum, double maximum)
    {
        using var low = minimum.ToScalar();
        return With(maximum.ToScalar(), high => tensor.clamp(low, high));
    }

    public static Tensor GreaterThan(this Tensor tensor, double value) => With(value.ToScalar(), tensor.gt);

    public static Tensor LessThan(this Tensor tensor, double value) => With(value.ToScalar(), tensor.lt);

    public static Tensor EqualTo(this Tensor tensor, double value) => With(value.ToScalar(), tensor.eq);

    public static Tensor FillInPlace(this Tensor tensor, double value) => With(value.ToScalar(), tensor.fill_);

    /// <summary>tensor with source added at the given rows of one dimension (torch.index_add, alpha 1).</summary>
    public static Tensor IndexPlus(this Tensor tensor, long dimension, Tensor index, Tensor source) =>
        tensor.index_add(dimension, index, source, One);

    public static Tensor IndexPlusInPlace(this Tensor tensor, long dimension, Tensor index, Tensor source) =>
        tensor.index_add_(dimension, index, source, One);

    public static Tensor MaskedFill(this Tensor tensor, Tensor mask, double value) => With(value.ToScalar(), s => tensor.masked_fill(mask, s));

    /// <summary>L2 norm over one dimension (linalg.vector_norm builds its ord Scalar the unsafe way).</summary>
    public static Tensor EuclideanNorm(this Tensor tensor, long dimension, bool keepDimension) =>
        tensor.square().sum([dimension], keepdim: keepDimension).sqrt();

    /// <summary>torch.arange(start, stop, step) over integers, as the given dtype.</summary>
    public static Tensor IntegerRange(long start, long stop, ScalarType dtype, Device? device, long step = 1)
    {
        using var first = start.ToScalar();
        using var end = stop.ToScalar();
        return With(step.ToScalar(), increment => arange(first, end, increment, dtype: dtype, device: device));
    }

    /// <summary>torch.full with a value held for the duration of the call.</summary>
    public static Tensor Filled(long[] shape, double value, ScalarType dtype, Device? device) =>
        With(value.ToScalar(), s => full(shape, s, dtype: dtype, device: device));
}
