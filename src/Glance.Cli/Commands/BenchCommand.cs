using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;
using Glance.Engine.Text;
using Glance.Engine.Training;
using static TorchSharp.torch;

namespace Glance.Cli.Commands;

/// <summary>
/// `glance bench`: `step` (per-step latency and step throughput per batch size), `generate` (whole generations) and
/// `blocks` (single FLUX.1 blocks at full width against this machine's matmul rate), `load` and `write-snapshot` (checkpoint loading).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks that print figures (never run as tests)");
        bench.Subcommands.Add(CreateStep());
        bench.Subcommands.Add(BenchGenerateCommand.Create());
        bench.Subcommands.Add(BenchBlocksCommand.Create());
        bench.Subcommands.Add(BenchLoadCommand.CreateLoad());
        bench.Subcommands.Add(BenchLoadCommand.CreateWriteSnapshot());
        return bench;
    }

    static Command CreateStep()
    {
        var preset = new Option<string?>("--preset") { Description = "Build a randomly initialised model from this preset (tiny, glance-mini) instead of loading --model" };
        var model = new ModelArguments();
        var batches = new Option<string>("--batch") { Description = "Comma-separated batch sizes", DefaultValueFactory = _ => "1,2,4,8,16" };
        var iterations = new Option<int>("--iterations") { Description = "Timed steps per batch size", DefaultValueFactory = _ => 20 };
        var width = new Option<int?>("--width");
        var height = new Option<int?>("--height");

        var command = new Command("step", "Time single denoising steps of mixed Slow/Fast batches (per-block FLOP rates at FLUX.1 width: `glance bench blocks`)") { preset, batches, iterations, width, height };
        model.AddTo(command);
        command.SetAction(result =>
        {
            using var glance = result.GetValue(preset) is { } name ? RandomlyInitialised(name, model.EngineOptions(result)) : model.Load(result);
            using var engine = new TorchGlanceEngine(glance, ownsModel: false);
            var d = engine.Description;
            int w = result.GetValue(width) ?? d.DefaultWidth, h = result.GetValue(height) ?? d.DefaultHeight;
            int steps = result.GetValue(iterations);
            Console.WriteLine($"model {d.ModelName} on {d.Device} ({d.DType}), {w}x{h}, {get_num_threads()} threads, {steps} timed steps per batch size");
            Console.WriteLine($"{"batch",5} {"ms/step",10} {"p95 ms",10} {"samples/s",10} {"images/s",10}");
            foreach (int batch in result.GetValue(batches)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
            {
                var (mean, p95) = TimeSteps(engine, batch, w, h, steps);
                double samplesPerSecond = batch / mean.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{batch,5} {mean.TotalMilliseconds,10:F2} {p95.TotalMilliseconds,10:F2} {samplesPerSecond,10:F1} {samplesPerSecond / PlanSteps,10:F2}"));
            }
            Console.WriteLine($"images/s = samples/s / {PlanSteps} (one Glance image is {PlanSteps} transformer steps; text encoding and decoding not included)");
            return 0;
        });
        return command;
    }

    static int PlanSteps => PlanBuilder.GlanceSlowIndices.Count + PlanBuilder.GlanceFastIndices.Count;

    static GlanceModel RandomlyInitialised(string preset, EngineOptions options)
    {
        var device = TorchRuntime.ResolveDevice(options.Device);
        var config = GlanceModelPresets.Get(preset);
        var model = GlanceModel.Create(config, WordTokenizer.Build(["a red circle"]), device, TorchRuntime.ResolveDType(options.DType, device), seed: 0);
        // Randomly initialised adapters so that the benchmark pays for Slow/Fast routing as a real model does.
        foreach (string phase in new[] { PlanBuilder.SlowPhase, PlanBuilder.FastPhase })
        {
            foreach (var p in model.AddTrainableAdapter(phase, LoraTargetSets.BroadTargets(model.Config.Transformer), rank: 16, alpha: 16, seed: 1))
                p.requires_grad = false;
        }
        return model;
    }

    /// <summary>Half the batch starts 5 steps ahead, so every timed batch mixes Slow and Fast samples.</summary>
    static (TimeSpan Mean, TimeSpan P95) TimeSteps(TorchGlanceEngine engine, int batch, int width, int height, int iterations)
    {
        var states = engine.Start(Enumerable.Range(0, batch).Select(i => new GenerationSpec("a red circle", null, width, height, i)).ToArray()).ToList();
        try
        {
            for (int k = 0; k < PlanBuilder.GlanceSlowIndices.Count; k++) engine.RunStep(states.Where((_, i) => i % 2 == 1).ToArray());
            engine.RunStep(states);
            var times = new List<TimeSpan>(iterations);
            var clock = new Stopwatch();
            for (int it = 0; it < iterations; it++)
            {
                for (int i = 0; i < states.Count; i++)
                {
                    if (!states[i].IsDenoised) continue;
                    states[i].Dispose();
                    states[i] = engine.Start([states[i].Spec])[0];
                }
                clock.Restart();
                engine.RunStep(states);
                times.Add(clock.Elapsed);
            }
            times.Sort();
            var mean = TimeSpan.FromTicks((long)times.Average(t => t.Ticks));
            return (mean, times[(int)Math.Ceiling(0.95 * times.Count) - 1]);
        }
        finally
        {
            foreach (var state in states) state.Dispose();
        }
    }
}
