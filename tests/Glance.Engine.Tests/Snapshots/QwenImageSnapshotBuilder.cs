using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Snapshots;

/// <summary>
/// Writes tiny random Qwen-Image snapshots in exactly the Hugging Face layout: model_index.json, scheduler/, text_encoder/
/// (Qwen2_5_VLForConditionalGeneration: language model under model.* or model.language_model.*, plus vision-tower and
/// lm_head tensors, five shards and an index), tokenizer/ (small synthetic Qwen2 files in the real formats, see
/// <see cref="SyntheticTokenizerFiles.WriteQwen2"/>), transformer/ (diffusers names, three shards and an index) and vae/
/// (AutoencoderKLQwenImage, one file). Weights are stored in bfloat16, as released; the networks here hold the same
/// weights, rounded to bfloat16, in float32 for comparisons.
/// </summary>
public sealed class QwenImageSnapshotBuilder : IDisposable
{
    public const int TextWidth = 32;
    static readonly string TokenizerFiles = Path.Combine(Path.GetTempPath(), "glance-synthetic-qwen2-tokenizer-" + Environment.ProcessId);
    static readonly Lazy<string> Tokenizer = new(() =>
    {
        SyntheticTokenizerFiles.WriteQwen2(TokenizerFiles, ["a", "red", "circle", "blue", "square", "lighthouse", "on", "cliff", "at", "dawn"]);
        return TokenizerFiles;
    });

    public static string TokenizerFolder => Tokenizer.Value;

    /// <summary>2 blocks, 2 heads of 16 with RoPE axes [4, 6, 6], text width 32, 4 latent channels packed 2x2.</summary>
    public static QwenImageConfig TransformerConfig => new(
        PatchSize: 2, InChannels: 16, OutChannels: 4, NumLayers: 2, AttentionHeadDim: 16, NumAttentionHeads: 2,
        JointAttentionDim: TextWidth, AxesDimsRope: [4, 6, 6]);

    /// <summary>Four levels, so that latents are 8x smaller than images as in the released VAE; 4 latent channels.</summary>
    public static QwenImageAutoencoderConfig AutoencoderConfig => new(
        BaseDim: 8, ZDim: 4, DimMult: [1, 2, 2, 2], NumResBlocks: 1, AttnScales: [], TemperalDownsample: [false, true, true],
        LatentsMean: [0.3, -0.2, 0.5, -0.7], LatentsStd: [1.5, 0.8, 2.0, 1.2]);

    /// <summary>Two layers, 4 query heads over 2 key/value heads of 8, with a vocabulary that holds the synthetic tokenizer's ids.</summary>
    public static Qwen25VLTextConfig TextConfig => new(VocabSize: 1024, HiddenSize: TextWidth, NumLayers: 2, NumHeads: 4, NumKeyValueHeads: 2,
        HeadDim: 8, IntermediateSize: 48, RmsNormEps: 1e-6, RopeTheta: 100, MaxPositionEmbeddings: 2048);

    /// <summary>The text config's mrope_section (sum: head_dim / 2).</summary>
    static int[] MropeSection => [1, 1, 2];

    QwenImageSnapshotBuilder(QwenImageTransformer transformer, QwenImageAutoencoder autoencoder, Qwen25VLTextModel textEncoder)
    {
        Transformer = transformer;
        Autoencoder = autoencoder;
        TextEncoder = textEncoder;
    }

    public QwenImageTransformer Transformer { get; }
    public QwenImageAutoencoder Autoencoder { get; }
    public Qwen25VLTextModel TextEncoder { get; }

    public static QwenImageSnapshotBuilder Create(long seed = 21)
    {
        var transformer = Seeded(new QwenImageTransformer(TransformerConfig, ScalarType.Float32, CPU), seed);
        var autoencoder = Seeded(new QwenImageAutoencoder(AutoencoderConfig, ScalarType.Float32, CPU), seed + 1);
        var text = Seeded(new Qwen25VLTextModel(TextConfig, ScalarType.Float32, CPU), seed + 2);
        return new QwenImageSnapshotBuilder(transformer, autoencoder, text);
    }

    /// <summary>Seeded weights with the norm weights (ones when built) drawn from [0.5, 1.5] too, all rounded to bfloat16.</summary>
    static T Seeded<T>(T module, long seed) where T : nn.Module
    {
        SeededWeights.Redraw(module, seed);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed + 1000, CPU);
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (name.Contains("norm", StringComparison.Ordinal) || name.EndsWith(".gamma", StringComparison.Ordinal))
            {
                using var unit = rand(parameter.shape, generator: generator);
                using var values = unit.Plus(0.5);
                parameter.copy_(values);
            }
            using var rounded = parameter.to(ScalarType.BFloat16).to(ScalarType.Float32);
            parameter.copy_(rounded);
        }
        return module;
    }

    /// <summary>Writes the snapshot into <paramref name="root"/> (created).</summary>
    /// <param name="languageModelPrefix">"model." as released, or "model.language_model." as newer transformers save it.</param>
    public string Write(string root, string languageModelPrefix = "model.")
    {
        Directory.CreateDirectory(root);
        QwenImageSnapshotFiles.WriteModelIndex(root);
        QwenImageSnapshotFiles.WriteScheduler(root);

        string text = Path.Combine(root, "text_encoder");
        QwenImageSnapshotFiles.WriteTextEncoderConfig(text, TextConfig, MropeSection, textConfigSection: languageModelPrefix != "model.");
        using (var scope = NewDisposeScope())
        {
            var state = TextEncoder.state_dict().Select(kv => new KeyValuePair<string, Tensor>(languageModelPrefix + kv.Key, kv.Value)).ToList();
            // The released file also holds the vision tower and the language-model head, which text-to-image never uses.
            string visual = languageModelPrefix == "model." ? "visual." : "model.visual.";
            state.Add(new(visual + "patch_embed.proj.weight", ones([TextWidth, 3, 2, 14, 14])));
            state.Add(new(visual + "merger.mlp.0.bias", zeros(4 * TextWidth)));
            state.Add(new("lm_head.weight", ones(TextConfig.VocabSize, TextWidth)));
            WriteShards(text, "model", state, 5);
        }
        FluxSnapshotFiles.CopyTokenizer(TokenizerFolder, Path.Combine(root, "tokenizer"));

        QwenImageSnapshotFiles.WriteTransformerConfig(Path.Combine(root, "transformer"), TransformerConfig);
        WriteShards(Path.Combine(root, "transformer"), "diffusion_pytorch_model", [.. Transformer.state_dict()], 3);
        QwenImageSnapshotFiles.WriteVaeConfig(Path.Combine(root, "vae"), AutoencoderConfig);
        WriteShards(Path.Combine(root, "vae"), "diffusion_pytorch_model", [.. Autoencoder.state_dict()], 1);
        return root;
    }

    /// <summary>Floating-point tensors stored in bfloat16, sharded as <see cref="ShardedSafetensorsWriter"/> does for real snapshots.</summary>
    static void WriteShards(string folder, string name, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, int shards)
    {
        using var scope = NewDisposeScope();
        var ordered = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        var stored = ordered.ToDictionary(
            kv => kv.Key, kv => (kv.Value.is_floating_point() ? kv.Value.to(ScalarType.BFloat16) : kv.Value).detach().contiguous(), StringComparer.Ordinal);
        var specs = ordered.Select(kv => new TensorSpec(kv.Key, stored[kv.Key].dtype, stored[kv.Key].shape)).ToList();
        ShardedSafetensorsWriter.Write(folder, name, specs, shards, (spec, destination) => stored[spec.Name].bytes.CopyTo(destination));
    }

    public void Dispose()
    {
        Transformer.Dispose();
        Autoencoder.Dispose();
        TextEncoder.Dispose();
    }
}
