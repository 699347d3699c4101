using Glance.Engine.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Runtime;

/// <summary>One kernel's error in a reduced precision against float64 on the same (already rounded) inputs.</summary>
/// <param name="RelativeError">mean |y - exact| / mean |exact|.</param>
/// <param name="RoundingError">The same for the exact result merely rounded to the precision: what one rounding costs.</param>
/// <param name="AsTheModelsRunIt">False for a raw libtorch call that the models route around (shown for comparison).</param>
public sealed record KernelPrecisionResult(string Kernel, double RelativeError, double RoundingError, bool AsTheModelsRunIt = true)
{
    /// <summary>Error in units of one output rounding: about 1 for a correct kernel.</summary>
    public double Ratio => RelativeError / RoundingError;

    /// <summary>More than a few roundings' worth of error: the kernel computes something else.</summary>
    public bool IsWrong => Ratio > 4;
}

/// <summary>
/// Measures, on this machine, how far the libtorch kernels the models use land from float64 in a reduced precision,
/// so that a CPU or GPU whose kernels are wrong in bfloat16 is found before it serves images (`glance check-precision`).
/// Every input is rounded to the precision first, so a correct kernel shows only its output rounding.
/// </summary>
public static class KernelPrecision
{
    static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Device, ScalarType DType), bool> Verified = new();

    /// <summary>Whether every kernel, as the models run it, is within a few roundings: the precision serves correct images.</summary>
    public static bool ServesCorrectly(IEnumerable<KernelPrecisionResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return !results.Any(r => r.AsTheModelsRunIt && r.IsWrong);
    }

    /// <summary><see cref="ServesCorrectly"/> for this device and precision, measured once per process (about a second on a CPU).</summary>
    public static bool IsVerified(Device device, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(device);
        return Verified.GetOrAdd((device.ToString(), dtype), _ => ServesCorrectly(Measure(device, dtype)));
    }

    public static IReadOnlyList<KernelPrecisionResult> Measure(Device device, ScalarType dtype, long seed = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed, CPU);
        var results = new List<KernelPrecisionResult>();

        Tensor Random(params long[] shape) => randn(shape, generator: generator).to(dtype).to(device);

        void Check(string kernel, Func<Tensor, Tensor> op, Tensor input, bool asTheModelsRunIt = true)
        {
            using var scope = NewDisposeScope();
            var exact = op(input.to(ScalarType.Float64));
            var actual = op(input).to(ScalarType.Float64);
            var rounded = exact.to(dtype).to(ScalarType.Float64);
            double scale = exact.abs().mean().item<double>();
            results.Add(new KernelPrecisionResult(
                kernel,
                actual.sub(exact).abs().mean().item<double>() / scale,
                rounded.sub(exact).abs().mean().item<double>() / scale,
                asTheModelsRunIt));
        }

        foreach (long k in new long[] { 64, 768, 3072 })
        {
            var weight = Random(256, k).DividedBy(Math.Sqrt(k));
            Check($"linear {k} -> 256", x => nn.functional.linear(x, weight.to(x.dtype)), Random(64, k));
        }
        Check("layer_norm 192", x => nn.functional.layer_norm(x, [192], eps: 1e-6), Random(64, 192).Times(3.0));
        Check("gelu (tanh)", x => nn.functional.gelu(x, GELU.Approximate.tanh), Random(64, 768).Times(2.0));
        Check("silu", x => nn.functional.silu(x), Random(64, 768).Times(2.0));
        Check("softmax", x => x.softmax(-1), Random(3, 80, 80).Times(3.0));
        var qkv = Random(3, 1, 8, 256, 128);
        Check("attention 256 x 128", x => nn.functional.scaled_dot_product_attention(x[0], x[1], x[2]), qkv);
        Check("group_norm 32 groups", x => nn.functional.group_norm(x, 32, eps: 1e-6), Random(1, 64, 32, 32).Times(2.0));

        foreach (long outChannels in new long[] { 3, 16, 20 })
        {
            using var conv = nn.Conv2d(32, outChannels, 3, padding: 1, dtype: dtype, device: device);
            conv.weight.copy_(Random(outChannels, 32, 3, 3).DividedBy(Math.Sqrt(9 * 32)));
            conv.bias!.copy_(Random(outChannels).DividedBy(10.0)); // from the seeded generator, not the module's global draw
            var input = Random(1, 32, 32, 32);
            Tensor Libtorch(Tensor x) => nn.functional.conv2d(x, conv.weight.to(x.dtype), conv.bias!.to(x.dtype), padding: [1, 1]);
            Check($"conv 3x3 32 -> {outChannels} (libtorch)", Libtorch, input, asTheModelsRunIt: false);
            // The path the autoencoders take: the same layer through ConvolutionPrecision (float64 stays the reference).
            Check($"conv 3x3 32 -> {outChannels} (as the models run it)",
                x => x.dtype == ScalarType.Float64 ? Libtorch(x) : ConvolutionPrecision.Forward(conv, x), input);
        }
        using (var pointwise = nn.Conv2d(32, 3, 1, dtype: dtype, device: device))
        {
            pointwise.weight.copy_(Random(3, 32, 1, 1).DividedBy(Math.Sqrt(32)));
            pointwise.bias!.copy_(Random(3).DividedBy(10.0));
            Check("conv 1x1 32 -> 3", x => nn.functional.conv2d(x, pointwise.weight.to(x.dtype), pointwise.bias!.to(x.dtype)), Random(1, 32, 32, 32));
        }
        return results;
    }
}
