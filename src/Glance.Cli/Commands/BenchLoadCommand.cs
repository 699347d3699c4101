using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Glance.Cli.Benchmarks;
using Glance.Engine.Models.Flux;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Pipeline;

namespace Glance.Cli.Commands;

/// <summary>
/// `glance bench load` (checkpoint loading speed and memory per component, against the disk's read rate; docs/loading.md)
/// and `glance bench write-snapshot` (the synthetic full-width FLUX.1 or Qwen-Image snapshots it is measured on).
/// </summary>
public static class BenchLoadCommand
{
    const string FluxPreset = "flux1";
    const string QwenImagePreset = "qwen-image";

    public static Command CreateLoad()
    {
        var model = new ModelArguments("bfloat16");
        var cycles = new Option<int>("--cycles") { Description = "Then load and dispose N more times, printing resident memory after each dispose", DefaultValueFactory = _ => 0 };
        var digest = new Option<bool>("--digest") { Description = "After the timed load, print a SHA-256 of every loaded parameter's bytes (equal across devices when the loads agree)" };
        var command = new Command("load",
            "Load a FLUX.1 or Qwen-Image snapshot and print per component seconds, GB read, GB/s and peak resident memory, with the disk's sequential read rate on the same files")
        { cycles, digest };
        model.AddTo(command);
        command.SetAction(result =>
        {
            string folder = ModelLocator.Resolve(result.GetValue(model.Model)!);
            if (FluxSnapshot.PipelineClassOf(folder) is null)
            {
                Console.Error.WriteLine($"'{folder}' is not a FLUX.1 or Qwen-Image snapshot (no model_index.json naming FluxPipeline or {QwenImageSnapshot.PipelineClass}); bench load measures snapshots.");
                return 1;
            }
            new LoadBenchmark(folder, model.EngineOptions(result), result.InvocationConfiguration.Output, result.GetValue(digest)).Run(result.GetValue(cycles));
            return 0;
        });
        return command;
    }

    public static Command CreateWriteSnapshot()
    {
        var output = new Option<string>("--out") { Description = "Folder to write the snapshot into (created)", Required = true };
        var doubleBlocks = new Option<int>("--double-blocks") { Description = "Double-stream blocks (FLUX.1 has 19)", DefaultValueFactory = _ => 4 };
        var singleBlocks = new Option<int>("--single-blocks") { Description = "Single-stream blocks (FLUX.1 has 38)", DefaultValueFactory = _ => 8 };
        var t5Layers = new Option<int>("--t5-layers") { Description = "T5-XXL encoder layers (the release has 24)", DefaultValueFactory = _ => 2 };
        var variant = new Option<string>("--variant") { Description = "dev (guidance embedding) or schnell", DefaultValueFactory = _ => "dev" };
        variant.AcceptOnlyFromAmong("dev", "schnell");
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random bfloat16 weights", DefaultValueFactory = _ => 1 };
        var preset = new Option<string>("--preset") { Description = $"{FluxPreset} (FLUX.1-dev or -schnell, see --variant) or {QwenImagePreset}", DefaultValueFactory = _ => FluxPreset };
        preset.AcceptOnlyFromAmong(FluxPreset, QwenImagePreset);
        var blocks = new Option<int>("--blocks") { Description = "Qwen-Image transformer blocks (the release has 60)", DefaultValueFactory = _ => 2 };
        var textLayers = new Option<int>("--text-layers") { Description = "Qwen2.5-VL language-model layers (the release has 28)", DefaultValueFactory = _ => 1 };
        var command = new Command("write-snapshot",
            "Write a FLUX.1- or Qwen-Image-shaped snapshot at full width with fewer blocks and layers and random bfloat16 weights, sharded like the release (for bench load)")
        { output, preset, doubleBlocks, singleBlocks, t5Layers, variant, blocks, textLayers, seed };
        command.SetAction(result =>
        {
            var log = result.InvocationConfiguration.Output;
            var clock = Stopwatch.StartNew();
            long bytes = result.GetValue(preset) == QwenImagePreset
                ? QwenImageSyntheticSnapshotWriter.Write(result.GetValue(output)!,
                    QwenImageShapes.Transformer with { NumLayers = result.GetValue(blocks) },
                    QwenImageShapes.TextEncoder with { NumLayers = result.GetValue(textLayers) },
                    QwenImageShapes.MropeSection, QwenImageShapes.Autoencoder, result.GetValue(seed), log)
                : SyntheticSnapshotWriter.Write(result.GetValue(output)!, result.GetValue(variant) == "dev", result.GetValue(doubleBlocks),
                result.GetValue(singleBlocks), result.GetValue(t5Layers), result.GetValue(seed), log);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {bytes / 1e9:F2} GB of weights in {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return command;
    }
}
