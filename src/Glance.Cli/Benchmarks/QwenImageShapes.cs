using Glance.Engine.Models.Qwen;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// The released Qwen/Qwen-Image shapes, for benchmarks at real width: the transformer of its transformer/config.json,
/// the Qwen2.5-VL-7B language model and the VAE of its vae/config.json, and parameter counts of the full model taken from
/// the engine's own modules built on libtorch's meta device (shapes only, no memory).
/// </summary>
internal static class QwenImageShapes
{
    /// <summary>Qwen/Qwen-Image transformer/config.json: 60 blocks of 24 heads x 128, text features 3584, 16 latent channels in 2x2 patches.</summary>
    public static QwenImageConfig Transformer => new(
        PatchSize: 2, InChannels: 64, OutChannels: 16, NumLayers: 60, AttentionHeadDim: 128, NumAttentionHeads: 24,
        JointAttentionDim: 3584, AxesDimsRope: [16, 56, 56], Theta: QwenImageConfigFiles.RopeTheta);

    public static Qwen25VLTextConfig TextEncoder => Qwen25VLTextConfig.Qwen25VL7BInstruct;

    public static QwenImageAutoencoderConfig Autoencoder => QwenImageAutoencoderConfig.QwenImage;

    /// <summary>Qwen2.5-VL-7B's text config.json mrope_section (frame, row, column halves of the 128-wide head).</summary>
    public static int[] MropeSection => [16, 24, 24];

    /// <summary>
    /// Parameters the released text_encoder files hold besides the language model, which text-to-image never runs: the
    /// vision tower (Qwen2.5-VL-7B vision_config: 32 blocks of width 1280, SwiGLU MLP 3420, patches 2x14x14 of 3 channels,
    /// a merger of 2x2 patches into 3584 features) and the untied lm_head [vocab, hidden].
    /// </summary>
    public static long UnusedTextEncoderParameters(Qwen25VLTextConfig text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const long width = 1280, mlp = 3420, depth = 32, merged = 4 * width;
        long block = 2 * width                          // norm1, norm2 (RMSNorm weights)
            + width * 3 * width + 3 * width             // attn.qkv
            + width * width + width                     // attn.proj
            + 2 * (width * mlp + mlp) + mlp * width + width; // mlp gate_proj, up_proj, down_proj
        long patchEmbed = width * 3 * 2 * 14 * 14;      // Conv3d without bias
        long merger = width + merged * merged + merged + merged * text.HiddenSize + text.HiddenSize; // ln_q, mlp.0, mlp.2
        long lmHead = (long)text.VocabSize * text.HiddenSize;
        return depth * block + patchEmbed + merger + lmHead;
    }

    /// <summary>Parameter count of a module built by <paramref name="build"/> on the meta device.</summary>
    public static long Parameters(Func<Device, nn.Module> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        using var module = build(new Device(DeviceType.META));
        using var scope = NewDisposeScope();
        return module.state_dict().Values.Sum(t => t.numel());
    }

    /// <summary>One line per component: parameters and bfloat16 GB of the full released model, from the configs above.</summary>
    public static IEnumerable<string> FullModelMemory()
    {
        long transformer = Parameters(meta => new QwenImageTransformer(Transformer, ScalarType.BFloat16, meta));
        long language = Parameters(meta => new Qwen25VLTextModel(TextEncoder, ScalarType.BFloat16, meta));
        long unused = UnusedTextEncoderParameters(TextEncoder);
        long vae = Parameters(meta => new QwenImageAutoencoder(Autoencoder, ScalarType.BFloat16, meta));
        string Line(string name, long parameters, string note) =>
            BlockReport.Invariant($"{name}: {parameters / 1e9:F3} B parameters = {2 * parameters / 1e9:F2} GB in bfloat16 ({note})");
        yield return Line("transformer", transformer, $"{Transformer.NumLayers} blocks");
        yield return Line("text encoder, language model", language, "what this engine loads and runs");
        yield return Line("text encoder files", language + unused, "with the vision tower and lm_head the files also hold");
        yield return Line("vae", vae, "what this engine builds from AutoencoderKLQwenImage");
        yield return Line("total loaded", transformer + language + vae, "weights in memory when all three sit on one device");
    }
}
