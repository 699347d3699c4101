using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>A tiny Qwen-Image transformer with seeded weights, and inputs for it.</summary>
internal static class QwenTinyModel
{
    /// <summary>2 blocks, 2 heads of 16, RoPE axes [4, 6, 6], text width 24, 16 packed input features, 4 x 2 x 2 outputs.</summary>
    public static readonly QwenImageConfig Config = new(
        PatchSize: 2, InChannels: 16, OutChannels: 4, NumLayers: 2, AttentionHeadDim: 16, NumAttentionHeads: 2,
        JointAttentionDim: 24, AxesDimsRope: [4, 6, 6]);

    /// <summary>
    /// Weights drawn from <paramref name="seed"/>; the RMS norm weights (ones when built) are drawn from [0.5, 1.5] too,
    /// so that applying them is checked.
    /// </summary>
    public static QwenImageTransformer Build(ScalarType dtype = ScalarType.Float32, long seed = 1234, QwenImageConfig? config = null)
    {
        var model = SeededWeights.Redraw(new QwenImageTransformer(config ?? Config, dtype), seed);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed + 1, CPU);
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!name.Contains("norm", StringComparison.Ordinal) || name.StartsWith("norm_out", StringComparison.Ordinal)) continue;
            using var values = rand(parameter.shape, dtype: ScalarType.Float32, generator: generator);
            using var shifted = values.Plus(0.5);
            parameter.copy_(shifted);
        }
        return model;
    }

    /// <summary>Random packed latents [batch, h * w, InChannels] and text [batch, textTokens, JointAttentionDim].</summary>
    public static (Tensor Img, Tensor Txt) Inputs(int batch, int h, int w, int textTokens, long seed = 7)
    {
        using var generator = new Generator((ulong)seed, CPU);
        return (randn([batch, (long)h * w, Config.InChannels], generator: generator),
            randn([batch, textTokens, Config.JointAttentionDim], generator: generator));
    }
}
