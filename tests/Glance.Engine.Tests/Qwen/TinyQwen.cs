using Glance.Engine.Models.Qwen;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// A two-layer Qwen2.5-VL language model for tests: 4 query heads over 2 key/value heads of 8 channels, so that a wrong
/// head grouping (h % 2 instead of h / 2) changes outputs, and rope theta 100 so that every channel pair turns
/// noticeably within a dozen positions.
/// </summary>
internal static class TinyQwen
{
    public static Qwen25VLTextConfig Config => new(VocabSize: 64, HiddenSize: 32, NumLayers: 2, NumHeads: 4, NumKeyValueHeads: 2,
        HeadDim: 8, IntermediateSize: 48, RmsNormEps: 1e-6, RopeTheta: 100, MaxPositionEmbeddings: 32);

    /// <summary>An mrope_section for heads of 8 (sum 4 = head_dim / 2).</summary>
    public static int[] MropeSection => [1, 1, 2];

    public static Qwen25VLTextModel Model(long seed, ScalarType dtype = ScalarType.Float32)
    {
        var model = SeededWeights.Redraw(new Qwen25VLTextModel(Config, dtype, CPU), seed);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed + 1000, CPU);
        // Fresh RMSNorm weights are ones (kept by the redraw); randomise them so that applying them is checked too.
        foreach (var (name, p) in model.named_parameters().Where(p => p.name.EndsWith("norm.weight", StringComparison.Ordinal)))
            p.uniform_(0.5, 1.5, generator);
        return model;
    }

    /// <summary>The model's weights under the keys of a released Qwen2_5_VLForConditionalGeneration file ("model.*").</summary>
    public static Dictionary<string, Tensor> ReleasedKeys(Qwen25VLTextModel model, string prefix = "model.") =>
        model.state_dict().ToDictionary(kv => prefix + kv.Key, kv => kv.Value, StringComparer.Ordinal);
}
