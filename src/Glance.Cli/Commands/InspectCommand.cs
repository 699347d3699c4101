using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Cli.Commands;

/// <summary>`glance inspect MODEL`: what a model folder holds and the memory it needs, from its configs and file headers only.</summary>
public static class InspectCommand
{
    /// <param name="memory">Where the memory each device has left is read; null: this machine (tests pass fakes).</param>
    public static Command Create(IMemoryAvailability? memory = null)
    {
        var model = new Argument<string>("model") { Description = "Model name (under models/), model folder or FLUX.1 snapshot folder" };
        var dtype = new Option<string>("--dtype") { Description = "Precision the weights would be served in: bfloat16, float16 or float32", DefaultValueFactory = _ => "bfloat16" };
        dtype.AcceptOnlyFromAmong("bfloat16", "float16", "float32");
        var maxSequence = new Option<int?>("--max-sequence-length") { Description = "T5 tokens (FLUX.1: 1-512; default 512 dev, 256 schnell)" };
        var device = new Option<string>("--device") { Description = "The model's device, for the memory table (cuda, cpu, ...)", DefaultValueFactory = _ => "cuda" };
        var textDevice = new Option<string>("--text-encoder-device") { Description = "model (with the transformer) or a device such as cpu for the text encoders", DefaultValueFactory = _ => "model" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        var command = new Command("inspect", "Describe a model folder without loading its weights: format, components, dtypes, parameters, memory per device") { model, dtype, maxSequence, device, textDevice, json };
        command.SetAction(result =>
        {
            var inspection = ModelInspection.Inspect(ModelLocator.Resolve(result.GetValue(model)!), result.GetValue(maxSequence));
            var served = ServedType(result.GetValue(dtype)!);
            var placement = new Placement(result.GetValue(device)!, result.GetValue(textDevice) is "model" or null ? result.GetValue(device)! : result.GetValue(textDevice)!);
            var verdicts = MemoryCheck.Assess(placement.Demands(inspection, served), memory ?? SystemMemory.Host);
            var output = result.InvocationConfiguration.Output;
            output.WriteLine(result.GetValue(json) ? ToJson(inspection, served, placement, verdicts) : ToText(inspection, served, placement, verdicts));
            return 0;
        });
        return command;
    }

    internal static ScalarType ServedType(string name) => name switch
    {
        "float16" => ScalarType.Float16,
        "float32" => ScalarType.Float32,
        _ => ScalarType.BFloat16,
    };

    /// <summary>Which device holds which networks: the text encoders (clip, t5) may live apart from the transformer and the VAE.</summary>
    internal sealed record Placement(string Model, string TextEncoders)
    {
        public string DeviceOf(ComponentInspection component) => ModelInspection.TextEncoderComponents.Contains(component.Name) ? TextEncoders : Model;

        /// <summary>The weights per device, every network served in <paramref name="served"/>.</summary>
        public IReadOnlyList<DeviceDemand> Demands(ModelInspection inspection, ScalarType served) => inspection.Demands(Model, served, TextEncoders, served);
    }

    internal static string ToText(ModelInspection inspection, ScalarType served, Placement placement, IReadOnlyList<MemoryVerdict> verdicts)
    {
        var c = inspection.Profile;
        var lines = new List<string>
        {
            $"{inspection.Folder}",
            $"format:    {inspection.Format}",
            $"model:     {c.Name} ({c.Family}); {(c.DistilledGuidance ? "distilled guidance" : c.Guidance.TrueCfg ? $"true CFG{(c.Guidance.NormRescale ? " with norm rescale" : "")}" : "no guidance")}, {c.DefaultBaseSteps} base steps by default, {inspection.TextTokens}",
            $"schedule:  {(c.Schedule.DynamicShift ? $"dynamic shift {c.Schedule.BaseShift}..{c.Schedule.MaxShift} over {c.Schedule.BaseSeqLen}..{c.Schedule.MaxSeqLen} tokens" : $"fixed shift {c.Schedule.FixedShift}")}",
            "",
            string.Create(CultureInfo.InvariantCulture, $"{"component",-12}{"parameters",16}{"on disk",12}{$"in {served}",14}  dtypes      architecture"),
        };
        foreach (var component in inspection.Components)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{component.Name,-12}{component.Parameters,16:N0}{Gb(component.BytesOnDisk),12}{Gb(component.DeviceBytes(served)),14}  {string.Join(",", component.DTypes),-10}  {component.Architecture}"));
        }
        long total = inspection.Components.Sum(x => x.DeviceBytes(served));
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"{"total",-12}{inspection.Components.Sum(x => x.Parameters),16:N0}{Gb(inspection.Components.Sum(x => x.BytesOnDisk)),12}{Gb(total),14}"));
        lines.Add("");
        foreach (var demand in placement.Demands(inspection, served))
            lines.Add($"weights on {demand.Device}: {Gb(demand.WeightBytes)} ({string.Join(", ", demand.Components.Select(c => c.Name))}), plus activations");
        lines.Add("");
        lines.Add($"memory at start-up (weights + {Gb(MemoryCheck.LoadingMarginBytes)} while loading, against what each device has left now):");
        lines.AddRange(verdicts.Select(v => "  " + MemoryCheck.Describe(v)));
        return string.Join(Environment.NewLine, lines);
    }

    internal static string ToJson(ModelInspection inspection, ScalarType served, Placement placement, IReadOnlyList<MemoryVerdict> verdicts) => JsonSerializer.Serialize(new
    {
        folder = inspection.Folder,
        format = inspection.Format,
        model = inspection.Profile.Name,
        family = inspection.Profile.Family,
        servedDType = served.ToString(),
        maxTextTokens = inspection.MaxTextTokens,
        components = inspection.Components.Select(x => new
        {
            name = x.Name,
            architecture = x.Architecture,
            files = x.Files,
            parameters = x.Parameters,
            bytesOnDisk = x.BytesOnDisk,
            dtypes = x.DTypes,
            deviceBytes = x.DeviceBytes(served),
            device = placement.DeviceOf(x),
        }),
        devices = placement.Demands(inspection, served).ToDictionary(d => d.Device, d => d.WeightBytes),
        deviceBytes = inspection.Components.Sum(x => x.DeviceBytes(served)),
        // Per device at start-up: weights plus the loading margin against what is left; availableBytes and fits are null where not known.
        memory = verdicts.Select(v => new
        {
            device = v.Demand.Device,
            weightBytes = v.Demand.WeightBytes,
            neededBytes = v.NeededBytes,
            availableBytes = v.Available.Bytes,
            source = v.Available.Source,
            fits = v.Fits,
        }),
    }, ReportJson.Options);

    static string Gb(long bytes) => ByteSize.Format(bytes);
}
