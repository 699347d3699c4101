using System.Text.Json.Nodes;
using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>Writes a vae/ folder in the Qwen/Qwen-Image layout: config.json and diffusion_pytorch_model.safetensors.</summary>
internal static class QwenImageVaeFolder
{
    public const string WeightsFile = "diffusion_pytorch_model.safetensors";

    /// <summary>diffusers' AutoencoderKLQwenImage config.json for <paramref name="config"/>.</summary>
    public static string ConfigJson(QwenImageAutoencoderConfig config) => new JsonObject
    {
        ["_class_name"] = "AutoencoderKLQwenImage",
        ["_diffusers_version"] = "0.34.0.dev0",
        ["attn_scales"] = new JsonArray([.. config.AttnScales.Select(v => (JsonNode)v)]),
        ["base_dim"] = config.BaseDim,
        ["dim_mult"] = new JsonArray([.. config.DimMult.Select(v => (JsonNode)v)]),
        ["dropout"] = 0.0,
        ["latents_mean"] = new JsonArray([.. config.LatentsMean.Select(v => (JsonNode)v)]),
        ["latents_std"] = new JsonArray([.. config.LatentsStd.Select(v => (JsonNode)v)]),
        ["num_res_blocks"] = config.NumResBlocks,
        ["temperal_downsample"] = new JsonArray([.. config.TemperalDownsample.Select(v => (JsonNode)v)]),
        ["z_dim"] = config.ZDim,
    }.ToJsonString();

    /// <summary>
    /// The folder for <paramref name="weights"/> (state-dict keys are the checkpoint's), stored as <paramref name="dtype"/>;
    /// <paramref name="extra"/> tensors are added as they are and <paramref name="omit"/> keys left out.
    /// </summary>
    public static string Write(string root, QwenImageAutoencoderConfig config, IReadOnlyDictionary<string, Tensor> weights, ScalarType dtype,
        IReadOnlyDictionary<string, Tensor>? extra = null, IReadOnlyCollection<string>? omit = null)
    {
        string folder = Path.Combine(root, "vae");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), ConfigJson(config));
        using var scope = NewDisposeScope();
        var tensors = weights.Where(w => omit is null || !omit.Contains(w.Key))
            .Select(w => new KeyValuePair<string, Tensor>(w.Key, w.Value.detach().to(dtype)))
            .Concat(extra ?? new Dictionary<string, Tensor>())
            .ToList();
        SafetensorsFile.Write(Path.Combine(folder, WeightsFile), tensors);
        return folder;
    }
}
