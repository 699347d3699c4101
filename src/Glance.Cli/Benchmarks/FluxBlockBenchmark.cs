using Glance.Engine.Models.Flux;
using static Glance.Cli.Benchmarks.BlockReport;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// One run of `glance bench blocks`: the matmul rate per dtype first, then for each dtype, image size and batch the
/// block times, their FLOPs and rates, printed as a Markdown table that can go into docs/ as it is.
/// </summary>
internal sealed class FluxBlockBenchmark(FluxConfig config, Device device, int textTokens, int warmup, int iterations, TextWriter output)
{
    public void Run(string shapeName, IReadOnlyList<int> sizes, IReadOnlyList<int> batches, IReadOnlyList<ScalarType> dtypes)
    {
        output.Write(Invariant($"FLUX.1 blocks at {shapeName} width: hidden {config.HiddenSize}, {config.NumHeads} heads x {config.HeadDim}, MLP {config.MlpHiddenSize}; "));
        output.WriteLine(Invariant($"{config.Depth} double + {config.DepthSingleBlocks} single blocks, random weights; {textTokens} text tokens"));
        var matmulRates = BlockReport.MachineAndMatmulRates(output, dtypes, device, warmup, iterations);
        output.WriteLine();
        output.WriteLine("| size | batch | dtype | img + txt tokens | double ms | double GFLOP | double GFLOP/s | double % of matmul | single ms | single GFLOP | single GFLOP/s | single % of matmul |" + DevicePeakHeader(device));
        output.WriteLine("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + DevicePeakRule(device));
        foreach (var dtype in dtypes)
        {
            using var timer = new FluxBlockTimer(config, dtype, device);
            foreach (int size in sizes)
            {
                foreach (int batch in batches)
                {
                    long imageTokens = FluxBlockTimer.ImageTokens(size);
                    ResetDevicePeak(device);
                    var times = timer.Time(batch, size, textTokens, warmup, iterations);
                    long doubleFlops = FluxBlockFlops.DoubleBlock(config, batch, imageTokens, textTokens);
                    long singleFlops = FluxBlockFlops.SingleBlock(config, batch, imageTokens, textTokens);
                    output.WriteLine(Invariant($"| {size} | {batch} | {BlockReport.Name(dtype)} | {imageTokens} + {textTokens} | ")
                        + BlockReport.Rates(times.DoubleMs, doubleFlops, matmulRates[dtype]) + " | " + BlockReport.Rates(times.SingleMs, singleFlops, matmulRates[dtype]) + " |" + DevicePeakCell(device));
                }
            }
        }
    }
}
