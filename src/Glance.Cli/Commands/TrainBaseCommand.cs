using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Glance.Engine.Pipeline;
using Glance.Mini.Training;

namespace Glance.Cli.Commands;

/// <summary>`glance train-base`: trains glance-mini from scratch on the shapes world and writes the model folder.</summary>
public static class TrainBaseCommand
{
    public static Command Create()
    {
        var defaults = new BaseTrainingOptions();
        var output = new Option<DirectoryInfo>("--out") { Description = "Model folder to write", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("models", ModelLocator.DefaultModel)) };
        var preset = new Option<string>("--preset") { Description = "Model configuration to train", DefaultValueFactory = _ => GlanceModelPresets.GlanceMini.Name };
        var seed = new Option<long>("--seed") { Description = "Seed of data order, initialisation and noise", DefaultValueFactory = _ => defaults.Seed };
        var aeSteps = new Option<int>("--ae-steps") { Description = "Autoencoder training steps", DefaultValueFactory = _ => defaults.AutoencoderSteps };
        var steps = new Option<int>("--steps") { Description = "Transformer training steps", DefaultValueFactory = _ => defaults.TransformerSteps };
        var batch = new Option<int>("--batch") { Description = "Transformer batch size", DefaultValueFactory = _ => defaults.TransformerBatch };
        var cache = new Option<int>("--cache-size") { Description = "Training renders encoded once for the transformer stage", DefaultValueFactory = _ => defaults.LatentCacheSize };
        var threads = new Option<int?>("--threads") { Description = "Intra-op CPU threads (default: libtorch's)" };

        var command = new Command("train-base", "Train the glance-mini base model from scratch on the procedural shapes world")
            { output, preset, seed, aeSteps, steps, batch, cache, threads };
        command.SetAction(result =>
        {
            if (result.GetValue(threads) is { } n) TorchSharp.torch.set_num_threads(n);
            var options = defaults with
            {
                Seed = result.GetValue(seed),
                AutoencoderSteps = result.GetValue(aeSteps),
                TransformerSteps = result.GetValue(steps),
                TransformerBatch = result.GetValue(batch),
                LatentCacheSize = result.GetValue(cache),
            };
            var folder = result.GetValue(output)!.FullName;
            var clock = Stopwatch.StartNew();
            var (model, report) = BaseModelTrainer.Train(GlanceModelPresets.Get(result.GetValue(preset)!), options, Console.Out);
            using (model)
            {
                // Shipped weights are stored as float16 (half the size; the model still runs in its own dtype).
                model.Save(folder, TorchSharp.torch.ScalarType.Float16);
            }
            var record = new
            {
                command = "glance " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
                options,
                wallTimeSeconds = clock.Elapsed.TotalSeconds,
                autoencoderSeconds = report.AutoencoderTime.TotalSeconds,
                autoencoderFinalLoss = report.AutoencoderFinalLoss,
                encodeSeconds = report.CacheTime.TotalSeconds,
                transformerSeconds = report.TransformerTime.TotalSeconds,
                transformerFinalLoss = report.TransformerFinalLoss,
                latentShift = report.LatentShift,
                latentScale = report.LatentScale,
                autoencoderCurve = report.AutoencoderCurve.Select(p => new { step = p.Step, loss = p.MeanLoss }),
                transformerCurve = report.TransformerCurve.Select(p => new { step = p.Step, loss = p.MeanLoss }),
                threads = TorchSharp.torch.get_num_threads(),
                machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            };
            File.WriteAllText(Path.Combine(folder, "training.json"), JsonSerializer.Serialize(record, ReportJson.Options));
            Console.WriteLine($"wrote {folder} in {clock.Elapsed:hh\\:mm\\:ss}");
            return 0;
        });
        return command;
    }
}
