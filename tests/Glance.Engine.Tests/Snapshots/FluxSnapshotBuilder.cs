using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.Flux;
using Glance.Engine.Models.T5;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Sampling;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Snapshots;

/// <summary>Which FLUX.1 download a fixture imitates.</summary>
public enum FluxVariant
{
    Dev,
    Schnell,
}

/// <summary>
/// Writes tiny random FLUX.1 snapshots in exactly the Hugging Face layout: model_index.json, scheduler/,
/// text_encoder/ (CLIPTextModel), tokenizer/ (CLIP's files; small synthetic ones in the real formats, see
/// <see cref="SyntheticTokenizerFiles"/>), text_encoder_2/ (T5EncoderModel, two shards and an
/// index), tokenizer_2/ (T5's files), transformer/ (diffusers names, three shards and an index, a block's
/// pieces split across shards) and vae/ (diffusers AutoencoderKL names); or the BFL variant with flux1-*.safetensors
/// and ae.safetensors at the root in place of transformer/ and vae/. Weights are stored in bfloat16, as released.
/// <see cref="Model"/> holds the same weights (rounded to bfloat16) in float32 for comparisons.
/// </summary>
public sealed class FluxSnapshotBuilder : IDisposable
{
    public const int ClipWidth = 32;
    public const int T5Width = 32;
    static readonly string TokenizerFiles = Path.Combine(Path.GetTempPath(), "glance-synthetic-tokenizers-" + Environment.ProcessId);
    static readonly Lazy<(string Clip, string T5)> Tokenizers = new(() =>
    {
        string clip = Path.Combine(TokenizerFiles, "tokenizer"), t5 = Path.Combine(TokenizerFiles, "tokenizer_2");
        SyntheticTokenizerFiles.WriteClip(clip);
        SyntheticTokenizerFiles.WriteT5(t5);
        return (clip, t5);
    });

    public static string ClipTokenizerFolder => Tokenizers.Value.Clip;
    public static string T5TokenizerFolder => Tokenizers.Value.T5;

    FluxSnapshotBuilder(FluxVariant variant, GlanceModel model)
    {
        Variant = variant;
        Model = model;
    }

    public FluxVariant Variant { get; }

    /// <summary>The snapshot's weights, bfloat16-rounded, in float32 on the CPU.</summary>
    public GlanceModel Model { get; }

    /// <summary>FLUX.1's head size (128) and RoPE axes, which BFL files do not record, with one head and few blocks.</summary>
    public static FluxConfig TransformerConfig(FluxVariant variant) => new(
        InChannels: 16, VecInDim: ClipWidth, ContextInDim: T5Width, HiddenSize: 128, MlpRatio: 4, NumHeads: 1,
        Depth: 2, DepthSingleBlocks: 2, AxesDim: [16, 56, 56], Theta: 10_000, QkvBias: true, GuidanceEmbed: variant == FluxVariant.Dev);

    public static AutoencoderConfig AutoencoderConfig => new(
        Resolution: 16, InChannels: 3, Ch: 32, OutCh: 3, ChMult: [1, 1], NumResBlocks: 1, ZChannels: 4, ScaleFactor: 0.3611, ShiftFactor: 0.1159);

    public static ClipTextConfig ClipConfig => new(
        VocabSize: 49408, HiddenSize: ClipWidth, NumHiddenLayers: 2, NumAttentionHeads: 2, IntermediateSize: 64,
        HiddenAct: "quick_gelu", MaxPositionEmbeddings: 77, LayerNormEps: 1e-5, EosTokenId: 2);

    public static T5Config T5Config => new(VocabSize: 32128, DModel: T5Width, DKv: 8, DFf: 64, NumLayers: 2, NumHeads: 4);

    /// <summary>A model with seeded weights (every parameter perturbed, so that no two are alike), bfloat16-rounded.</summary>
    public static FluxSnapshotBuilder Create(FluxVariant variant, long seed = 11)
    {
        var tokenizers = (T5: T5TokenizerFiles.Load(T5TokenizerFolder),
            Clip: ClipBpeTokenizer.Load(Path.Combine(ClipTokenizerFolder, "vocab.json"), Path.Combine(ClipTokenizerFolder, "merges.txt")));
        var config = new GlanceModelConfig(
            Name: "tiny-flux", Transformer: TransformerConfig(variant), Autoencoder: AutoencoderConfig, TextEncoder: T5Config,
            Tokenizer: GlanceModelConfig.SentencePieceTokenizerKind, MaxTextTokens: variant == FluxVariant.Dev ? 512 : 256,
            Schedule: Schedule(variant), Guidance: new GuidanceConfig(false, variant == FluxVariant.Dev ? 3.5 : 0, variant == FluxVariant.Dev ? 20 : 0),
            DefaultWidth: 256, DefaultHeight: 256, MinSize: 16, MaxSize: 512, PooledTextEncoder: ClipConfig, MaskTextPadding: false);
        var model = GlanceModel.Create(config, tokenizers.T5, tokenizers.Clip, CPU, ScalarType.Float32, seed);
        Perturb(model.Transformer, seed + 1);
        Perturb(model.Autoencoder, seed + 2);
        Perturb(model.TextEncoder, seed + 3);
        Perturb(model.PooledTextEncoder!, seed + 4);
        return new FluxSnapshotBuilder(variant, model);
    }

    public static FlowMatchScheduleConfig Schedule(FluxVariant variant) => variant == FluxVariant.Dev
        ? new FlowMatchScheduleConfig(DynamicShift: true, BaseShift: 0.5, MaxShift: 1.15, BaseSeqLen: 256, MaxSeqLen: 4096, FixedShift: 3.0)
        : new FlowMatchScheduleConfig(DynamicShift: false, FixedShift: 1.0);

    static void Perturb(nn.Module module, long seed)
    {
        SeededWeights.Redraw(module, seed);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed, CPU);
        foreach (var (_, parameter) in module.named_parameters())
        {
            using var noise = rand(parameter.shape, dtype: ScalarType.Float32, device: CPU, generator: generator);
            using var offset = noise.Times(0.1).Minus(0.05);
            using var shifted = parameter.Plus(offset);
            using var rounded = shifted.to(ScalarType.BFloat16).to(ScalarType.Float32);
            parameter.copy_(rounded);
        }
    }

    /// <summary>Writes the snapshot into <paramref name="root"/> (created) in the diffusers layout, or the BFL single-file one.</summary>
    public string Write(string root, FluxWeightsLayout layout = FluxWeightsLayout.Diffusers)
    {
        Directory.CreateDirectory(root);
        bool dev = Variant == FluxVariant.Dev;
        FluxSnapshotFiles.WriteModelIndex(root);
        FluxSnapshotFiles.WriteScheduler(root, dev);

        var clip = ClipConfig;
        FluxSnapshotFiles.WriteClipConfig(Path.Combine(root, "text_encoder"), clip);
        var clipState = State(Model.PooledTextEncoder!);
        // Older CLIP files also hold the position-id buffer, which the loader skips by name.
        clipState.Add(new("text_model.embeddings.position_ids", TensorArithmetic.IntegerRange(0, clip.MaxPositionEmbeddings, ScalarType.Int64, CPU).unsqueeze(0)));
        WriteShards(Path.Combine(root, "text_encoder"), "model", clipState, 1);
        FluxSnapshotFiles.CopyTokenizer(ClipTokenizerFolder, Path.Combine(root, "tokenizer"));

        FluxSnapshotFiles.WriteT5Config(Path.Combine(root, "text_encoder_2"), T5Config);
        var t5State = State(Model.TextEncoder);
        // T5EncoderModel files carry the token embedding twice (shared and encoder.embed_tokens); the loader skips the copy.
        t5State.Add(new("encoder.embed_tokens.weight", t5State.Single(kv => kv.Key == "shared.weight").Value));
        WriteShards(Path.Combine(root, "text_encoder_2"), "model", t5State, 2);
        FluxSnapshotFiles.CopyTokenizer(T5TokenizerFolder, Path.Combine(root, "tokenizer_2"));

        var transformer = Model.Config.Transformer;
        var bflTransformer = State(Model.Transformer);
        var bflAutoencoder = State(Model.Autoencoder);
        if (layout == FluxWeightsLayout.Diffusers)
        {
            FluxSnapshotFiles.WriteTransformerConfig(Path.Combine(root, "transformer"), transformer, dev);
            var diffusers = FluxCheckpointNames.ToDiffusers(bflTransformer.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), transformer);
            WriteShards(Path.Combine(root, "transformer"), "diffusion_pytorch_model", [.. diffusers.OrderBy(kv => kv.Key, StringComparer.Ordinal)], 3);

            var ae = AutoencoderConfig;
            FluxSnapshotFiles.WriteVaeConfig(Path.Combine(root, "vae"), ae);
            var vae = AutoencoderCheckpointNames.ToDiffusers(bflAutoencoder.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), ae);
            WriteShards(Path.Combine(root, "vae"), "diffusion_pytorch_model", [.. vae.OrderBy(kv => kv.Key, StringComparer.Ordinal)], 1);
        }
        else
        {
            WriteShards(root, dev ? "flux1-dev" : "flux1-schnell", bflTransformer, 1);
            WriteShards(root, "ae", bflAutoencoder, 1);
        }
        return root;
    }

    static List<KeyValuePair<string, Tensor>> State(nn.Module module) =>
        [.. module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value))];

    /// <summary>Floating-point tensors stored in bfloat16, sharded as <see cref="ShardedSafetensorsWriter"/> does for real snapshots.</summary>
    static void WriteShards(string folder, string name, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, int shards)
    {
        using var scope = NewDisposeScope();
        var stored = tensors.ToDictionary(
            kv => kv.Key, kv => (kv.Value.is_floating_point() ? kv.Value.to(ScalarType.BFloat16) : kv.Value).detach().contiguous(), StringComparer.Ordinal);
        var specs = tensors.Select(kv => new TensorSpec(kv.Key, stored[kv.Key].dtype, stored[kv.Key].shape)).ToList();
        ShardedSafetensorsWriter.Write(folder, name, specs, shards, (spec, destination) => stored[spec.Name].bytes.CopyTo(destination));
    }

    public void Dispose() => Model.Dispose();
}
