using System.Globalization;
using Glance.Engine.Models.Flux;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// One run of `glance bench blocks`: the matmul rate per dtype first, then for each dtype, image size and batch the
/// block times, their FLOPs and rates, printed as a Markdown table that can go into docs/ as it is.
/// </summary>
internal sealed class FluxBlockBenchmark(FluxConfig config, Device device, int textTokens, int warmup, int iterations, TextWriter output)
{
    public Device Device => device;

    public void Run(string shapeName, IReadOnlyList<int> sizes, IReadOnlyList<int> batches, IReadOnlyList<ScalarType> dtypes)
    {
        output.Write(Invariant($"FLUX.1 blocks at {shapeName} width: hidden {config.HiddenSize}, {config.NumHeads} heads x {config.HeadDim}, MLP {config.MlpHiddenSize}; "));
        output.WriteLine(Invariant($"{config.Depth} double + {config.DepthSingleBlocks} single blocks, random weights; {textTokens} text tokens"));
        output.WriteLine(Invariant(
            $"CPU {CpuModel()}, {get_num_threads()} threads, device {device}; {warmup} warm-up + {iterations} timed forwards per block, medians"));

        var matmulRates = dtypes.ToDictionary(dtype => dtype, dtype => MatmulRate.GflopsPerSecond(dtype, device, warmup, iterations));
        output.WriteLine(Invariant(
            $"matmul [{MatmulRate.Rows} x {MatmulRate.Features}] x [{MatmulRate.Features} x {MatmulRate.Features}]^T ({MatmulRate.Flops / 1e9:F1} GFLOP), median of {iterations}: ")
            + string.Join(", ", matmulRates.Select(rate => Invariant($"{Name(rate.Key)} {rate.Value:F1} GFLOP/s"))));
        output.WriteLine();
        output.WriteLine("| size | batch | dtype | img + txt tokens | double ms | double GFLOP | double GFLOP/s | double % of matmul | single ms | single GFLOP | single GFLOP/s | single % of matmul |");
        output.WriteLine("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var dtype in dtypes)
        {
            using var timer = new FluxBlockTimer(config, dtype, device);
            foreach (int size in sizes)
            {
                foreach (int batch in batches)
                {
                    long imageTokens = FluxBlockTimer.ImageTokens(size);
                    var times = timer.Time(batch, size, textTokens, warmup, iterations);
                    long doubleFlops = FluxBlockFlops.DoubleBlock(config, batch, imageTokens, textTokens);
                    long singleFlops = FluxBlockFlops.SingleBlock(config, batch, imageTokens, textTokens);
                    output.WriteLine(Invariant($"| {size} | {batch} | {Name(dtype)} | {imageTokens} + {textTokens} | ")
                        + Rates(times.DoubleMs, doubleFlops, matmulRates[dtype]) + " | " + Rates(times.SingleMs, singleFlops, matmulRates[dtype]) + " |");
                }
            }
        }
    }

    /// <summary>"ms | GFLOP | GFLOP/s | % of matmul", or dashes when no block of the kind was timed.</summary>
    static string Rates(double ms, long flops, double matmulGflopsPerSecond)
    {
        if (double.IsNaN(ms)) return "- | - | - | -";
        double gflopsPerSecond = flops / (ms * 1e6);
        return Invariant($"{ms:F1} | {flops / 1e9:F1} | {gflopsPerSecond:F1} | {100 * gflopsPerSecond / matmulGflopsPerSecond:F0}%");
    }

    static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => dtype.ToString(),
    };

    /// <summary>The first "model name" of /proc/cpuinfo, or "unknown" where there is none (not Linux, or not x86).</summary>
    static string CpuModel()
    {
        const string path = "/proc/cpuinfo";
        if (!File.Exists(path)) return "unknown";
        string? line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "unknown" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
