using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// This machine's matmul rate, the yardstick for the blocks' GFLOP/s: activations [4096, 3072] times a [3072, 3072]
/// weight, run as every Linear of the blocks runs (linear(x, W) = x W^T, no bias): a FLUX.1-dev-wide layer over the
/// tokens of a 1024x1024 image.
/// </summary>
internal static class MatmulRate
{
    public const long Rows = 4096;
    public const long Features = 3072;

    public static long Flops => FluxBlockFlops.Linear(Rows, Features, Features);

    /// <summary>GFLOP/s of the median of <paramref name="iterations"/> timed runs after <paramref name="warmup"/> untimed ones.</summary>
    public static double GflopsPerSecond(ScalarType dtype, Device device, int warmup, int iterations)
    {
        using var mode = inference_mode();
        using var x = randn([Rows, Features], dtype: dtype, device: device);
        using var weight = randn([Features, Features], dtype: dtype, device: device);
        var times = new List<double>(iterations);
        for (int i = 0; i < warmup + iterations; i++)
        {
            double ms = BenchClock.Milliseconds(device, () => [nn.functional.linear(x, weight)]);
            if (i >= warmup) times.Add(ms);
        }
        return Flops / (BenchClock.Median(times) * 1e6);
    }
}
