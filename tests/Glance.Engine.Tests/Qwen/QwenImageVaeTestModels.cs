using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>Tiny seeded Qwen-Image autoencoders and conversions between tensors and the reference's frame stacks.</summary>
internal static class QwenImageVaeTestModels
{
    /// <summary>
    /// Three levels of 8, 16, 16 channels, one resnet per encoder level (two per decoder level), 4 latent channels:
    /// 16x16 images, 4x4 latents. temperal_downsample [false, true] gives the encoder a downsample2d then a
    /// downsample3d and the decoder an upsample3d then an upsample2d, so both kinds of resample (and their time_conv
    /// weights) are present; 8 -> 16 resnets have a conv_shortcut. Non-trivial latent means and deviations.
    /// </summary>
    public static QwenImageAutoencoderConfig Tiny => new(
        BaseDim: 8,
        ZDim: 4,
        DimMult: [1, 2, 2],
        NumResBlocks: 1,
        AttnScales: [],
        TemperalDownsample: [false, true],
        LatentsMean: [0.3, -0.2, 0.5, -0.7],
        LatentsStd: [1.5, 0.8, 2.0, 1.2]);

    /// <summary>
    /// <see cref="SeededWeights.Redraw"/>, then every RMS norm gamma drawn in [0.5, 1.5]: with the all-ones gammas Redraw
    /// keeps, two norms swapped would go unnoticed.
    /// </summary>
    public static QwenImageAutoencoder Seeded(QwenImageAutoencoderConfig config, long seed)
    {
        var model = SeededWeights.Redraw(new QwenImageAutoencoder(config), seed);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)(seed + 1000), CPU);
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!name.EndsWith(".gamma", StringComparison.Ordinal)) continue;
            using var unit = rand(parameter.shape, generator: generator);
            using var values = unit.Plus(0.5);
            parameter.copy_(values);
        }
        return model;
    }

    /// <summary>A detached copy of the model's state dict, by key.</summary>
    public static Dictionary<string, Tensor> StateOf(QwenImageAutoencoder model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);

    /// <summary>Sample <paramref name="index"/> of a [B, C, H, W] batch as a one-frame video [C, 1, H, W].</summary>
    public static QwenImageAutoencoderReference.Frames OneFrame(Tensor batch, int index)
    {
        var sample = batch[index];
        var values = sample.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        return new QwenImageAutoencoderReference.Frames((int)sample.shape[0], 1, (int)sample.shape[1], (int)sample.shape[2], values);
    }

    /// <summary>max |ours - expected| for one sample [C, H, W] against a one-frame reference video.</summary>
    public static double MaxDifference(Tensor ours, QwenImageAutoencoderReference.Frames expected)
    {
        Assert.Equal(1, expected.T);
        Assert.Equal([expected.C, expected.H, expected.W], ours.shape.Select(s => (int)s).ToArray());
        var actual = ours.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        return actual.Zip(expected.V, (a, e) => Math.Abs(a - e)).Max();
    }
}
