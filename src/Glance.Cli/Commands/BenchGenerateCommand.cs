using System.CommandLine;
using System.Globalization;
using Glance.Engine.Pipeline;
using Glance.Engine.Serving;
using static TorchSharp.torch;

namespace Glance.Cli.Commands;

/// <summary>
/// `glance bench generate`: the engine's own generation time, prompt to PNG, one request at a time in this process,
/// as a latency distribution: the baseline that the server's concurrency-1 latency is compared with.
/// </summary>
public static class BenchGenerateCommand
{
    public static Command Create()
    {
        var model = new ModelArguments();
        var count = new Option<int>("--count") { Description = "Timed generations", DefaultValueFactory = _ => 48 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed generations first", DefaultValueFactory = _ => 30 };
        var prompt = new Option<string>("--prompt") { DefaultValueFactory = _ => "a large blue square at the top left on a black background" };
        var mode = new Option<string>("--mode") { Description = "glance or base", DefaultValueFactory = _ => "glance" };
        mode.AcceptOnlyFromAmong("glance", "base");
        var latencies = new Option<FileInfo?>("--latencies") { Description = "Append each generation's time (ms, one per line) to this file, to pool several runs" };

        var command = new Command("generate", "Time whole generations (prompt to PNG), one at a time: mean, p50, p95, p99") { count, warmup, prompt, mode, latencies };
        model.AddTo(command);
        command.SetAction(result =>
        {
            using var engine = new TorchGlanceEngine(model.Load(result));
            var d = engine.Description;
            var samplingMode = result.GetValue(mode) == "base" ? SamplingMode.Base : SamplingMode.Glance;
            GenerationSpec Spec(long seed) => new(result.GetValue(prompt)!, null, d.DefaultWidth, d.DefaultHeight, seed, samplingMode);

            engine.WarmUp();
            for (int i = 0; i < result.GetValue(warmup); i++) GenerationRunner.Generate(engine, Spec(-1 - i));
            var totals = new List<double>();
            var stages = new List<KeyValuePair<string, TimeSpan>>();
            for (int i = 0; i < result.GetValue(count); i++)
            {
                GenerationResult generation = GenerationRunner.Generate(engine, Spec(i + 1));
                totals.Add(generation.Total.TotalMilliseconds);
                stages.AddRange(generation.Timings);
            }
            if (result.GetValue(latencies) is { } file)
                File.AppendAllLines(file.FullName, totals.Select(total => total.ToString("F3", CultureInfo.InvariantCulture)));
            totals.Sort();

            double Percentile(double q) => totals[Math.Clamp((int)Math.Ceiling(q * totals.Count) - 1, 0, totals.Count - 1)];
            Console.WriteLine($"model {d.ModelName} on {d.Device} ({d.DType}), {d.DefaultWidth}x{d.DefaultHeight}, {get_num_threads()} threads, mode {result.GetValue(mode)}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{totals.Count} generations: mean {totals.Average():F1} ms, p50 {Percentile(0.50):F1} ms, p95 {Percentile(0.95):F1} ms, p99 {Percentile(0.99):F1} ms"));
            // The same stages as the server's Server-Timing header, so the two can be compared stage by stage.
            Console.WriteLine("mean stage ms: " + string.Join(", ", stages
                .GroupBy(stage => stage.Key, StringComparer.Ordinal)
                .Select(group => string.Create(CultureInfo.InvariantCulture, $"{group.Key} {group.Average(stage => stage.Value.TotalMilliseconds):F1}"))));
            return 0;
        });
        return command;
    }
}
