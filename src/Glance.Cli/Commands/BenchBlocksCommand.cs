using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Glance.Cli.Benchmarks;
using Glance.Engine.Models;
using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Cli.Commands;

/// <summary>
/// `glance bench blocks`: milliseconds and achieved GFLOP/s of single FLUX.1 double- and single-stream blocks, or of
/// Qwen-Image dual-stream blocks, at a real model's width, against this machine's matmul rate measured in the same run
/// (docs/flux-block-benchmark.md, docs/qwen-image-benchmark.md).
/// </summary>
public static class BenchBlocksCommand
{
    const string QwenImageShape = "qwen-image";
    const int FluxTextTokens = 512;
    const int QwenTextTokens = 64;

    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = $"Model whose width to use; its depth is replaced by the block counts ({QwenImageShape}: Qwen-Image's dual-stream blocks)", DefaultValueFactory = _ => "flux1-dev" };
        shape.AcceptOnlyFromAmong([.. ModelRegistry.Names, QwenImageShape]);
        var doubleBlocks = new Option<int>("--double-blocks") { Description = "Double-stream blocks to build and time", DefaultValueFactory = _ => 2 };
        var singleBlocks = new Option<int>("--single-blocks") { Description = "Single-stream blocks to build and time", DefaultValueFactory = _ => 2 };
        var blocks = new Option<int>("--blocks") { Description = $"Blocks to build and time for --shape {QwenImageShape} (the release has 60)", DefaultValueFactory = _ => 2 };
        var sizes = IntList("--sizes", "Comma-separated square image sizes in pixels, multiples of 16", [512, 1024], multipleOf: 16);
        var batches = IntList("--batch", "Comma-separated batch sizes", [1, 2], multipleOf: 1);
        var dtypes = new Option<string>("--dtype") { Description = "Comma-separated dtypes: float32, bfloat16, float16 (CUDA only)", DefaultValueFactory = _ => "bfloat16,float32" };
        var textTokens = new Option<int?>("--text-tokens") { Description = $"Text tokens (default: FLUX.1-dev's 512 T5 tokens; for {QwenImageShape} {QwenTextTokens}, a typical prompt after the template's dropped system block)" };
        var warmup = new Option<int>("--warmup") { Description = "Untimed forwards per block first (also untimed matmuls)", DefaultValueFactory = _ => 2 };
        var iterations = new Option<int>("--iterations") { Description = "Timed forwards per block (also timed matmuls); medians are reported", DefaultValueFactory = _ => 5 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int?>("--threads") { Description = "Intra-op CPU threads (default: libtorch's)" };

        var command = new Command("blocks",
            "Time FLUX.1 double and single blocks, or Qwen-Image blocks with --shape qwen-image (random weights, real widths and input shapes) per image size, batch and dtype: "
            + "ms per block, GFLOP/s from the blocks' matmul FLOPs, and that as a percentage of this machine's matmul rate in the same dtype")
        {
            shape, doubleBlocks, singleBlocks, blocks, sizes, batches, dtypes, textTokens, warmup, iterations, device, threads,
        };
        command.SetAction(result =>
        {
            if (result.GetValue(threads) is { } n) set_num_threads(n);
            var target = TorchRuntime.ResolveDevice(result.GetValue(device)!);
            var dtypeList = result.GetValue(dtypes)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(name => TorchRuntime.ResolveDType(name, target)).Distinct().ToArray();
            var output = result.InvocationConfiguration.Output;
            if (result.GetValue(shape) == QwenImageShape)
            {
                var real = QwenImageShapes.Transformer;
                new QwenBlockBenchmark(real with { NumLayers = result.GetValue(blocks) }, real.NumLayers, target, result.GetValue(textTokens) ?? QwenTextTokens,
                    result.GetValue(warmup), result.GetValue(iterations), output).Run(result.GetValue(sizes)!, result.GetValue(batches)!, dtypeList);
                return 0;
            }
            var config = ModelRegistry.Get(result.GetValue(shape)!) with
            {
                Depth = result.GetValue(doubleBlocks),
                DepthSingleBlocks = result.GetValue(singleBlocks),
            };
            var run = new FluxBlockBenchmark(
                config, target, result.GetValue(textTokens) ?? FluxTextTokens, result.GetValue(warmup), result.GetValue(iterations), output);
            run.Run(result.GetValue(shape)!, result.GetValue(sizes)!, result.GetValue(batches)!, dtypeList);
            return 0;
        });
        return command;
    }

    static Option<int[]> IntList(string name, string description, int[] defaults, int multipleOf) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaults,
        CustomParser = argument =>
        {
            string text = string.Join(',', argument.Tokens.Select(token => token.Value));
            var values = new List<int>();
            foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0 || value % multipleOf != 0)
                {
                    argument.AddError($"{name} has '{part}'; expected positive integers{(multipleOf > 1 ? $" that are multiples of {multipleOf}" : "")}, comma-separated.");
                    return null;
                }
                values.Add(value);
            }
            return [.. values];
        },
    };
}
