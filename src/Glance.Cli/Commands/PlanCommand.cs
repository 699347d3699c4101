using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Glance.Engine.Sampling;

namespace Glance.Cli.Commands;

/// <summary>`glance plan`: prints the sigmas and timesteps a sampling plan evaluates the model at.</summary>
public static class PlanCommand
{
    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Sampler preset", DefaultValueFactory = _ => SamplerPresets.Flux.Name };
        preset.AcceptOnlyFromAmong([.. SamplerPresets.All.Select(p => p.Name)]);
        var width = new Option<int>("--width") { Description = "Image width in pixels", DefaultValueFactory = _ => 1024 };
        var height = new Option<int>("--height") { Description = "Image height in pixels", DefaultValueFactory = _ => 1024 };
        var mode = new Option<string>("--mode") { Description = "glance (Slow + Fast phases) or base (N even steps)", DefaultValueFactory = _ => "glance" };
        mode.AcceptOnlyFromAmong("glance", "base");
        var steps = new Option<int>("--steps") { Description = "Steps in base mode", DefaultValueFactory = _ => PlanBuilder.GlanceBaseSteps };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };

        var command = new Command("plan", "Print the sigma schedule of a Glance or base sampling plan") { preset, width, height, mode, steps, json };
        command.SetAction(result =>
        {
            var samplerPreset = SamplerPresets.Get(result.GetValue(preset)!);
            int seqLen = samplerPreset.ImageSeqLen(result.GetValue(width), result.GetValue(height));
            var plan = result.GetValue(mode) == "base"
                ? PlanBuilder.Base(samplerPreset.Schedule, seqLen, result.GetValue(steps))
                : PlanBuilder.Glance(samplerPreset.Schedule, seqLen);
            result.InvocationConfiguration.Output.WriteLine(result.GetValue(json) ? ToJson(plan) : ToTable(plan));
            return 0;
        });
        return command;
    }

    internal static string ToJson(SamplingPlan plan) => JsonSerializer.Serialize(
        new { phases = plan.Phases.Select(p => new { name = p.Name, adapter = p.Adapter, sigmas = p.Sigmas, timesteps = p.Timesteps }) },
        Json);

    internal static string ToTable(SamplingPlan plan)
    {
        var lines = new List<string> { $"{"step",4}  {"phase",-6} {"adapter",-8} {"sigma",10} {"timestep",10} {"next",10}" };
        var steps = plan.Steps();
        for (int i = 0; i < steps.Count; i++)
        {
            var s = steps[i];
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{i,4}  {s.Phase,-6} {s.Adapter ?? "-",-8} {s.Sigma,10:F6} {1000 * s.Sigma,10:F3} {s.NextSigma,10:F6}"));
        }
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"{steps.Count} model evaluations; sigma travelled {steps.Sum(s => s.Sigma - s.NextSigma):F6}"));
        return string.Join(Environment.NewLine, lines);
    }
}
