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
    public static readonly IReadOnlyList<string> Components = ["transformer", "clip", "t5", "text-encoder", "vae-decoder"];

    public static Command Create()
    {
        var arguments = new ModelArguments();
        var component = new Option<string>("--component") { Description = "transformer, vae-decoder, and clip or t5 (FLUX family) or text-encoder (Qwen-Image)", Required = true };
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
    internal static IReadOnlyList<KeyValuePair<string, Tensor>> Run(DiffusionModel model, string component, IReadOnlyDictionary<string, Tensor> inputs) => model switch
    {
        GlanceModel flux => Run(flux, component, inputs),
        QwenImageModel qwen => Run(qwen, component, inputs),
        _ => throw new ArgumentException($"run-component does not know models of family '{model.Profile.Family}'."),
    };

    static Func<string, Tensor> Inputs(DiffusionModel model, string component, IReadOnlyDictionary<string, Tensor> inputs) =>
        name => inputs.TryGetValue(name, out var t) ? t.to(model.Device)
            : throw new ArgumentException($"Component '{component}' needs an input tensor named '{name}'; the file holds {(inputs.Count == 0 ? "none" : string.Join(", ", inputs.Keys))}.");

    /// <summary>
    /// Qwen-Image, with diffusers' argument names: the transformer takes hidden_states, encoder_hidden_states, optionally
    /// encoder_hidden_states_mask, timestep (sigma, as the pipeline passes t / 1000) and img_shapes [frames, h, w]; the text
    /// encoder input_ids and optionally attention_mask; the VAE decoder latents as vae.decode receives them (after the
    /// pipeline's z * latents_std + latents_mean), [B, C, h, w] or [B, C, 1, h, w].
    /// </summary>
    static IReadOnlyList<KeyValuePair<string, Tensor>> Run(QwenImageModel model, string component, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var input = Inputs(model, component, inputs);
        Tensor? Optional(string name) => inputs.TryGetValue(name, out var t) ? t.to(model.Device) : null;
        switch (component)
        {
            case "transformer":
                var shape = input("img_shapes").to(ScalarType.Int64).flatten().data<long>().ToArray();
                if (shape.Length != 3 || shape[0] != 1)
                    throw new ArgumentException($"img_shapes must be [1, h, w] (one frame, the packed grid); received [{string.Join(", ", shape)}].");
                var sample = model.Transformer.Forward(input("hidden_states").to(model.DType), input("encoder_hidden_states").to(model.DType),
                    Optional("encoder_hidden_states_mask"), input("timestep").to(ScalarType.Float32), (int)shape[1], (int)shape[2]);
                return [new("sample", sample)];
            case "text-encoder":
                var mask = Optional("attention_mask")?.to(ScalarType.Int64);
                return [new("last_hidden_state", model.TextEncoder.Forward(input("input_ids").to(ScalarType.Int64), mask))];
            case "vae-decoder":
                var latents = input("latents").to(ScalarType.Float32);
                if (latents.dim() == 5) latents = latents.select(2, 0);
                var config = model.Autoencoder.Config;
                var mean = tensor(config.LatentsMean, [1, config.ZDim, 1, 1], device: model.Device).to(ScalarType.Float32);
                var std = tensor(config.LatentsStd, [1, config.ZDim, 1, 1], device: model.Device).to(ScalarType.Float32);
                return [new("sample", model.Autoencoder.Decode(latents.sub(mean).div(std).to(model.DType)))];
            default:
                throw new ArgumentException($"Qwen-Image has no component '{component}'; expected transformer, text-encoder or vae-decoder.");
        }
    }

    static IReadOnlyList<KeyValuePair<string, Tensor>> Run(GlanceModel model, string component, IReadOnlyDictionary<string, Tensor> inputs)
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
