using System.CommandLine;
using Glance.Engine.Checkpoints;
using Glance.Engine.Pipeline;
using static TorchSharp.torch;

namespace Glance.Cli.Commands;

/// <summary>
/// `glance run-component`: one network of a model on named input tensors, outputs written in float32, so that anyone can
/// compare our forward with another implementation on the same weights. The input and output names are in the README.
/// </summary>
public static class RunComponentCommand
{
    public static readonly IReadOnlyList<string> Components = ["transformer", "clip", "t5", "vae-decoder"];

    public static Command Create()
    {
        var arguments = new ModelArguments();
        var component = new Option<string>("--component") { Description = "transformer, clip, t5 or vae-decoder", Required = true };
        component.AcceptOnlyFromAmong([.. Components]);
        var inputs = new Option<FileInfo>("--inputs") { Description = "safetensors file of named input tensors", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "safetensors file to write the outputs to (float32)", Required = true };
        var command = new Command("run-component", "Run one network of a model on named input tensors and write its outputs") { component, inputs, output };
        arguments.AddTo(command);
        command.SetAction(result =>
        {
            using var model = arguments.Load(result);
            using var file = SafetensorsFile.Read(result.GetValue(inputs)!.FullName);
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            var outputs = Run(model, result.GetValue(component)!, file.Tensors);
            SafetensorsFile.Write(result.GetValue(output)!.FullName,
                [.. outputs.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.to(ScalarType.Float32).cpu()))]);
            result.InvocationConfiguration.Output.WriteLine(
                $"{result.GetValue(component)}: wrote {string.Join(", ", outputs.Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}]"))} to {result.GetValue(output)!.FullName}");
            return 0;
        });
        return command;
    }

    /// <summary>The component's outputs by name; inputs are moved to the model's device and precision.</summary>
    internal static IReadOnlyList<KeyValuePair<string, Tensor>> Run(GlanceModel model, string component, IReadOnlyDictionary<string, Tensor> inputs)
    {
        Tensor Input(string name) => inputs.TryGetValue(name, out var t) ? t.to(model.Device)
            : throw new ArgumentException($"Component '{component}' needs an input tensor named '{name}'; the file holds {(inputs.Count == 0 ? "none" : string.Join(", ", inputs.Keys))}.");
        Tensor? Optional(string name) => inputs.TryGetValue(name, out var t) ? t.to(model.Device) : null;

        switch (component)
        {
            case "transformer":
                var velocity = model.Transformer.Forward(
                    Input("img"), Input("img_ids").to(ScalarType.Float32), Input("txt"), Input("txt_ids").to(ScalarType.Float32),
                    Input("timesteps"), Input("y"), Optional("guidance"));
                return [new("img", velocity)];
            case "clip":
                var clip = model.PooledTextEncoder ?? throw new ArgumentException("This model has no CLIP text encoder.");
                var (hidden, pooled) = clip.Forward(Input("input_ids").to(ScalarType.Int64));
                return [new("last_hidden_state", hidden), new("pooler_output", pooled)];
            case "t5":
                var mask = Optional("attention_mask");
                return [new("last_hidden_state", model.TextEncoder.Forward(Input("input_ids").to(ScalarType.Int64), mask?.to(ScalarType.Int64)))];
            case "vae-decoder":
                return [new("sample", model.Autoencoder.Decode(Input("latents").to(model.DType)))];
            default:
                throw new ArgumentException($"Unknown component '{component}'; expected one of {string.Join(", ", Components)}.");
        }
    }
}
