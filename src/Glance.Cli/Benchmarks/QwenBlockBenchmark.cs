using Glance.Engine.Models.Qwen;
using static Glance.Cli.Benchmarks.BlockReport;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// `glance bench blocks --shape qwen-image`: the matmul rate per dtype, then per dtype, image size and batch the time of
/// one Qwen-Image block and of the transformer without blocks, their rates, and the estimated full step and generation
/// times (docs/qwen-image-benchmark.md). <paramref name="fullDepth"/> is the released model's block count.
/// </summary>
internal sealed class QwenBlockBenchmark(QwenImageConfig config, int fullDepth, Device device, int textTokens, int warmup, int iterations, TextWriter output)
{
    /// <summary>Glance's recipe: 10 steps (5 Slow + 5 Fast); the base model: QwenImagePipeline's default 50.</summary>
    const int GlanceSteps = 10, BaseSteps = 50;

    public void Run(IReadOnlyList<int> sizes, IReadOnlyList<int> batches, IReadOnlyList<ScalarType> dtypes)
    {
        output.WriteLine(Invariant(
            $"Qwen-Image blocks at qwen-image width: {config.NumAttentionHeads} heads x {config.AttentionHeadDim} = {config.InnerDim}, MLP {config.MlpHiddenDim}, text features {config.JointAttentionDim}; ")
            + Invariant($"{config.NumLayers} of {fullDepth} blocks, random weights; {textTokens} text tokens"));
        foreach (string line in QwenImageShapes.FullModelMemory()) output.WriteLine("full model " + line);
        var matmulRates = MachineAndMatmulRates(output, dtypes, device, warmup, iterations);
        var estimates = new List<string>();
        output.WriteLine();
        output.WriteLine("| size | batch | dtype | img + txt tokens | block ms | block GFLOP | block GFLOP/s | block % of matmul | rest ms |" + DevicePeakHeader(device));
        output.WriteLine("|---:|---:|---|---:|---:|---:|---:|---:|---:|" + DevicePeakRule(device));
        foreach (var dtype in dtypes)
        {
            using var timer = new QwenBlockTimer(config, dtype, device);
            foreach (int size in sizes)
            {
                foreach (int batch in batches)
                {
                    long imageTokens = QwenBlockTimer.ImageTokens(size);
                    ResetDevicePeak(device);
                    var times = timer.Time(batch, size, textTokens, warmup, iterations);
                    long flops = QwenBlockFlops.Block(config, batch, imageTokens, textTokens);
                    output.WriteLine(Invariant($"| {size} | {batch} | {Name(dtype)} | {imageTokens} + {textTokens} | ")
                        + Rates(times.BlockMs, flops, matmulRates[dtype]) + Invariant($" | {times.RestMs:F1} |") + DevicePeakCell(device));
                    double stepSeconds = (fullDepth * times.BlockMs + times.RestMs) / 1000;
                    estimates.Add(Invariant($"| {size} | {batch} | {Name(dtype)} | {stepSeconds:F1} | {GlanceSteps * stepSeconds / 60:F1} | {BaseSteps * stepSeconds / 60:F1} |"));
                }
            }
        }
        output.WriteLine();
        output.WriteLine(Invariant($"Estimated step = {fullDepth} x block ms + rest ms. True CFG runs the prompt and the negative prompt as one batch of 2 per image,"));
        output.WriteLine(Invariant($"so one image costs {GlanceSteps} (Glance) or {BaseSteps} (base) steps at batch 2; text encoding and VAE decoding not included."));
        output.WriteLine();
        output.WriteLine(Invariant($"| size | batch | dtype | step s | {GlanceSteps} steps min | {BaseSteps} steps min |"));
        output.WriteLine("|---:|---:|---|---:|---:|---:|");
        foreach (string line in estimates) output.WriteLine(line);
    }
}
