using System.CommandLine;
using System.Globalization;
using Glance.Engine.Pipeline;
using Glance.Engine.Serving;

namespace Glance.Cli.Commands;

/// <summary>`glance generate`: one prompt to one PNG, with per-phase timings.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new ModelArguments();
        var prompt = new Option<string>("--prompt") { Description = "What to draw", Required = true };
        var negative = new Option<string?>("--negative-prompt") { Description = "What to steer away from (true-CFG models)" };
        var seed = new Option<long>("--seed") { Description = "Noise seed", DefaultValueFactory = _ => 0 };
        var mode = new Option<string>("--mode") { Description = "glance (Slow + Fast adapters) or base", DefaultValueFactory = _ => "glance" };
        mode.AcceptOnlyFromAmong("glance", "base");
        var steps = new Option<int?>("--steps") { Description = "Steps in base mode (default: the model's)" };
        var width = new Option<int?>("--width") { Description = "Width in pixels (default: the model's)" };
        var height = new Option<int?>("--height") { Description = "Height in pixels (default: the model's)" };
        var guidance = new Option<double?>("--guidance") { Description = "Guidance scale (default: the model's)" };
        var output = new Option<FileInfo>("--out") { Description = "PNG file to write", Required = true };

        var command = new Command("generate", "Generate one image from a prompt") { prompt, negative, seed, mode, steps, width, height, guidance, output };
        model.AddTo(command);
        command.SetAction(result =>
        {
            using var engine = new TorchGlanceEngine(model.Load(result));
            var d = engine.Description;
            var spec = new GenerationSpec(
                result.GetValue(prompt)!, result.GetValue(negative),
                result.GetValue(width) ?? d.DefaultWidth, result.GetValue(height) ?? d.DefaultHeight,
                result.GetValue(seed),
                result.GetValue(mode) == "base" ? SamplingMode.Base : SamplingMode.Glance,
                result.GetValue(steps), result.GetValue(guidance));
            var generated = GenerationRunner.Generate(engine, spec);
            var file = result.GetValue(output)!;
            File.WriteAllBytes(file.FullName, generated.Png);
            Console.WriteLine($"wrote {file.FullName} ({spec.Width}x{spec.Height}, seed {spec.Seed}, {d.ModelName} on {d.Device})");
            foreach (var (stage, time) in generated.Timings)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {stage,-7} {time.TotalMilliseconds,9:F1} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"total",-7} {generated.Total.TotalMilliseconds,9:F1} ms"));
            return 0;
        });
        return command;
    }
}
