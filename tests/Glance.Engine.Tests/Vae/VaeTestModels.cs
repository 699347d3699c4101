using Glance.Engine.Models.Flux;
using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Vae;

/// <summary>Tiny seeded autoencoders for the layout and reference tests.</summary>
internal static class VaeTestModels
{
    /// <summary>Two levels of 32 and 64 channels, two resnets per encoder level (three per decoder level), 4 latent channels.</summary>
    public static AutoencoderConfig TwoLevels => new(16, 3, 32, 3, [1, 2], 2, 4, 0.5, 0.1);

    /// <summary>
    /// <see cref="SeededWeights.Redraw"/>, then every GroupNorm scale drawn in [0.5, 1.5] and shift in [-0.2, 0.2]:
    /// with the identity norms Redraw keeps, two norms swapped by a name mapping would go unnoticed.
    /// </summary>
    public static AutoEncoder Seeded(AutoencoderConfig config, long seed)
    {
        var model = SeededWeights.Redraw(new AutoEncoder(config), seed);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)(seed + 1000), CPU);
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (parameter.dim() != 1 || !IsNorm(name)) continue;
            bool scale = name.EndsWith(".weight", StringComparison.Ordinal);
            using var unit = rand(parameter.shape, generator: generator);
            using var values = scale ? unit.Plus(0.5) : unit.Times(0.4).Minus(0.2);
            parameter.copy_(values);
        }
        return model;
    }

    static bool IsNorm(string name) => name.Contains(".norm", StringComparison.Ordinal) || name.Contains("norm_out", StringComparison.Ordinal);

    /// <summary>A detached copy of the model's state dict, by key.</summary>
    public static Dictionary<string, Tensor> StateOf(AutoEncoder model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);
}
