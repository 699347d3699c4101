using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Pipeline;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// Writes a Qwen-Image-shaped snapshot in the Hugging Face layout with random bfloat16 weights, for `glance bench load`:
/// the configs given (the command passes the released widths with fewer transformer blocks and text-encoder layers),
/// a synthetic Qwen2 tokenizer, and every tensor this engine loads under the released names ("model." before the
/// language model's keys, diffusers names for the transformer and VAE). The vision tower and lm_head of the released
/// text_encoder files are left out: the loader skips them unread, so they would only add disk. Names and shapes come
/// from the engine's modules built on the meta device; bytes are streamed one tensor at a time.
/// </summary>
public static class QwenImageSyntheticSnapshotWriter
{
    /// <summary>The release's language-model key prefix (transformers 4.49-4.53 Qwen2_5_VLForConditionalGeneration).</summary>
    const string LanguageModelPrefix = "model.";

    /// <summary>Writes the snapshot into <paramref name="root"/> (created) and returns the bytes of weights written.</summary>
    public static long Write(string root, QwenImageConfig transformer, Qwen25VLTextConfig text, int[] mropeSection,
        QwenImageAutoencoderConfig vae, ulong seed, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(log);
        var meta = new Device(DeviceType.META);
        Directory.CreateDirectory(root);
        QwenImageSnapshotFiles.WriteModelIndex(root);
        QwenImageSnapshotFiles.WriteScheduler(root);
        SyntheticTokenizerFiles.WriteQwen2(Path.Combine(root, "tokenizer"), ["a", "red", "circle", "lighthouse", "on", "cliff", "at", "dawn"]);

        long total = 0;
        var random = new SplitMixBFloat16(seed);
        void Part(string folder, string name, IReadOnlyDictionary<string, Tensor> state, string prefix, int shards)
        {
            var specs = state.Select(kv => new TensorSpec(prefix + kv.Key, ScalarType.BFloat16, kv.Value.shape))
                .OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
            long bytes = specs.Sum(s => s.ByteCount);
            log.WriteLine($"{folder}: {specs.Count} tensors, {bytes / 1e9:F2} GB in {shards} file(s)");
            ShardedSafetensorsWriter.Write(Path.Combine(root, folder), name, specs, shards, (_, destination) => random.FillBFloat16(destination));
            total += bytes;
        }

        QwenImageSnapshotFiles.WriteTransformerConfig(Path.Combine(root, "transformer"), transformer);
        using (var module = new QwenImageTransformer(transformer, ScalarType.BFloat16, meta))
        {
            Part("transformer", "diffusion_pytorch_model", module.state_dict(), "", 3);
        }
        QwenImageSnapshotFiles.WriteVaeConfig(Path.Combine(root, "vae"), vae);
        using (var module = new QwenImageAutoencoder(vae, ScalarType.BFloat16, meta))
        {
            Part("vae", "diffusion_pytorch_model", module.state_dict(), "", 1);
        }
        QwenImageSnapshotFiles.WriteTextEncoderConfig(Path.Combine(root, "text_encoder"), text, mropeSection);
        using (var module = new Qwen25VLTextModel(text, ScalarType.BFloat16, meta))
        {
            Part("text_encoder", "model", module.state_dict(), LanguageModelPrefix, 2);
        }
        return total;
    }
}
