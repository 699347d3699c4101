using Glance.Engine.Checkpoints;
using Glance.Engine.Models;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.Flux;
using Glance.Engine.Models.T5;
using Glance.Engine.Pipeline;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// Writes a FLUX.1-shaped diffusers snapshot at full width (hidden 3072, 24 heads; CLIP-L; T5-XXL widths; the FLUX VAE) with
/// fewer blocks and random bfloat16 weights, for `glance bench load`. Names and shapes come from the engine's own modules
/// built on libtorch's meta device (no memory, no initialisation) and its own diffusers key mappings; bytes come from a
/// seeded generator, one tensor at a time, so the snapshot may be larger than memory.
/// </summary>
public static class SyntheticSnapshotWriter
{
    /// <summary>FLUX.1's CLIP-L text encoder (openai/clip-vit-large-patch14's text model).</summary>
    public static ClipTextConfig ClipL => new(
        VocabSize: 49408, HiddenSize: 768, NumHiddenLayers: 12, NumAttentionHeads: 12, IntermediateSize: 3072,
        HiddenAct: "quick_gelu", MaxPositionEmbeddings: 77, LayerNormEps: 1e-5, EosTokenId: 2);

    /// <summary>T5 v1.1 XXL's encoder widths with <paramref name="layers"/> layers (the release has 24).</summary>
    public static T5Config T5Xxl(int layers) => new(VocabSize: 32128, DModel: 4096, DKv: 64, DFf: 10240, NumLayers: layers, NumHeads: 64);

    /// <summary>FLUX.1's autoencoder (BFL's AutoEncoderParams; diffusers' vae/config.json).</summary>
    public static AutoencoderConfig FluxVae => new(
        Resolution: 256, InChannels: 3, Ch: 128, OutCh: 3, ChMult: [1, 2, 4, 4], NumResBlocks: 2, ZChannels: 16, ScaleFactor: 0.3611, ShiftFactor: 0.1159);

    /// <summary>Writes the snapshot and returns the bytes of weights written.</summary>
    public static long Write(string root, bool dev, int doubleBlocks, int singleBlocks, int t5Layers, ulong seed, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var transformer = ModelRegistry.Get(dev ? "flux1-dev" : "flux1-schnell") with { Depth = doubleBlocks, DepthSingleBlocks = singleBlocks };
        var meta = new Device(DeviceType.META);
        Directory.CreateDirectory(root);
        FluxSnapshotFiles.WriteModelIndex(root);
        FluxSnapshotFiles.WriteScheduler(root, dev);
        SyntheticTokenizerFiles.WriteClip(Path.Combine(root, "tokenizer"));
        SyntheticTokenizerFiles.WriteT5(Path.Combine(root, "tokenizer_2"));

        long total = 0;
        var random = new SplitMixBFloat16(seed);
        void Part(string folder, string name, List<TensorSpec> specs, int shards)
        {
            long bytes = specs.Sum(s => s.ByteCount);
            log.WriteLine($"{folder}: {specs.Count} tensors, {bytes / 1e9:F2} GB in {shards} file(s)");
            ShardedSafetensorsWriter.Write(Path.Combine(root, folder), name, specs, shards, (_, destination) => random.FillBFloat16(destination));
            total += bytes;
        }

        FluxSnapshotFiles.WriteTransformerConfig(Path.Combine(root, "transformer"), transformer, dev);
        using (var module = new FluxTransformer(transformer, ScalarType.BFloat16, meta))
        using (var scope = NewDisposeScope())
        {
            var diffusers = FluxCheckpointNames.ToDiffusers(module.state_dict(), transformer);
            Part("transformer", "diffusion_pytorch_model", Specs(diffusers), 3);
        }
        FluxSnapshotFiles.WriteVaeConfig(Path.Combine(root, "vae"), FluxVae);
        using (var module = new AutoEncoder(FluxVae, ScalarType.BFloat16, meta))
        using (var scope = NewDisposeScope())
        {
            Part("vae", "diffusion_pytorch_model", Specs(AutoencoderCheckpointNames.ToDiffusers(module.state_dict(), FluxVae)), 1);
        }
        FluxSnapshotFiles.WriteClipConfig(Path.Combine(root, "text_encoder"), ClipL);
        using (var module = new ClipTextModel(ClipL, ScalarType.BFloat16, meta))
        {
            Part("text_encoder", "model", Specs(module.state_dict()), 1);
        }
        var t5 = T5Xxl(t5Layers);
        FluxSnapshotFiles.WriteT5Config(Path.Combine(root, "text_encoder_2"), t5);
        using (var module = new T5Encoder(t5, ScalarType.BFloat16, meta))
        {
            var specs = Specs(module.state_dict());
            // T5EncoderModel files carry the token embedding twice (shared and encoder.embed_tokens), as the release does.
            var shared = specs.Single(s => s.Name == "shared.weight");
            specs.Add(shared with { Name = "encoder.embed_tokens.weight" });
            Part("text_encoder_2", "model", [.. specs.OrderBy(s => s.Name, StringComparer.Ordinal)], 2);
        }
        return total;
    }

    static List<TensorSpec> Specs(IReadOnlyDictionary<string, Tensor> state) =>
        [.. state.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new TensorSpec(kv.Key, ScalarType.BFloat16, kv.Value.shape))];
}
