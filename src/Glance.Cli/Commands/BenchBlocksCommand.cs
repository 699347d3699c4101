using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Glance.Cli.Benchmarks;
using Glance.Engine.Models;
using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Cli.Commands;

/// <summary>
/// `glance bench blocks`: milliseconds and achieved GFLOP/s of single FLUX.1 double- and single-stream blocks at a
/// real model's width, against this machine's matmul rate measured in the same run (docs/flux-block-benchmark.md).
/// </summary>
public static class BenchBlocksCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = "Model whose width to use; its depth is replaced by the block counts", DefaultValueFactory = _ => "flux1-dev" };
        shape.AcceptOnlyFromAmong([.. ModelRegistry.Names]);
        var doubleBlocks = new Option<int>("--double-blocks") { Description = "Double-stream blocks to build and time", DefaultValueFactory = _ => 2 };
        var singleBlocks = new Option<int>("--single-blocks") { Description = "Single-stream blocks to build and time", DefaultValueFactory = _ => 2 };
        var sizes = IntList("--sizes", "Comma-separated square image sizes in pixels, multiples of 16", [512, 1024], multipleOf: 16);
        var batches = IntList("--batch", "Comma-separated batch sizes", [1, 2], multipleOf: 1);
        var dtypes = new Option<string>("--dtype") { Description = "Comma-separated dtypes: float32, bfloat16, float16 (CUDA only)", DefaultValueFactory = _ => "bfloat16,float32" };
        var textTokens = new Option<int>("--text-tokens") { Description = "T5 tokens (FLUX.1-dev reads 512)", DefaultValueFactory = _ => 512 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed forwards per block first (also untimed matmuls)", DefaultValueFactory = _ => 2 };
        var iterations = new Option<int>("--iterations") { Description = "Timed forwards per block (also timed matmuls); medians are reported", DefaultValueFactory = _ => 5 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int?>("--threads") { Description = "Intra-op CPU threads (default: libtorch's)" };

        var command = new Command("blocks",
            "Time FLUX.1 double and single blocks (random weights, real widths and input shapes) per image size, batch and dtype: "
            + "ms per block, GFLOP/s from the blocks' matmul FLOPs, and that as a percentage of this machine's matmul rate in the same dtype")
        {
            shape, doubleBlocks, singleBlocks, sizes, batches, dtypes, textTokens, warmup, iterations, device, threads,
        };
        command.SetAction(result =>
        {
            if (result.GetValue(threads) is { } n) set_num_threads(n);
            var config = ModelRegistry.Get(result.GetValue(shape)!) with
            {
                Depth = result.GetValue(doubleBlocks),
                DepthSingleBlocks = result.GetValue(singleBlocks),
            };
            var run = new FluxBlockBenchmark(
                config, TorchRuntime.ResolveDevice(result.GetValue(device)!), result.GetValue(textTokens),
                result.GetValue(warmup), result.GetValue(iterations), result.InvocationConfiguration.Output);
            var dtypeList = result.GetValue(dtypes)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(name => TorchRuntime.ResolveDType(name, run.Device)).Distinct().ToArray();
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
