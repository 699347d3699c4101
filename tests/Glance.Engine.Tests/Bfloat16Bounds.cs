namespace Glance.Engine.Tests;

/// <summary>
/// Error bounds for bfloat16 results, derived from the format rather than measured on one CPU. bfloat16 keeps 8
/// significant bits, so rounding to nearest has a relative error of at most u = 2^-8. A forward pass that rounds its
/// activations m times in sequence, each stage passing relative errors on with a gain of about one (normalised
/// networks), accumulates errors of independent sign in quadrature: about sqrt(m) * u relative to the result's norm.
/// A correct kernel stays under that; a kernel that is wrong in one layer (20-60% seen) does not.
/// </summary>
internal static class Bfloat16Bounds
{
    /// <summary>Unit roundoff of bfloat16: 8 significant bits.</summary>
    public const double UnitRoundoff = 1.0 / 256;

    /// <summary>Unit roundoff of float32 (24 significant bits), the accumulator of a correct bfloat16 kernel.</summary>
    public const double Float32UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>Relative (norm-wise) error of a result that went through <paramref name="roundings"/> sequential bfloat16 roundings.</summary>
    public static double Sequential(int roundings) => Math.Sqrt(roundings) * UnitRoundoff;

    /// <summary>Higham's gamma_n: the relative bound of a float32 sum of n products.</summary>
    public static double Float32Accumulation(long terms) => terms * Float32UnitRoundoff / (1 - terms * Float32UnitRoundoff);
}
