using System.Text.Json;
using System.Text.Json.Nodes;
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
        WriteJson(Path.Combine(root, FluxSnapshot.ModelIndexFile), new JsonObject
        {
            ["_class_name"] = "FluxPipeline",
            ["_diffusers_version"] = "0.30.0.dev0",
            ["scheduler"] = Pair("diffusers", "FlowMatchEulerDiscreteScheduler"),
            ["text_encoder"] = Pair("transformers", "CLIPTextModel"),
            ["text_encoder_2"] = Pair("transformers", "T5EncoderModel"),
            ["tokenizer"] = Pair("transformers", "CLIPTokenizer"),
            ["tokenizer_2"] = Pair("transformers", "T5TokenizerFast"),
            ["transformer"] = Pair("diffusers", "FluxTransformer2DModel"),
            ["vae"] = Pair("diffusers", "AutoencoderKL"),
        });
        WriteJson(Path.Combine(root, "scheduler", "scheduler_config.json"), new JsonObject
        {
            ["_class_name"] = "FlowMatchEulerDiscreteScheduler",
            ["_diffusers_version"] = "0.30.0.dev0",
            ["base_image_seq_len"] = 256,
            ["base_shift"] = 0.5,
            ["max_image_seq_len"] = 4096,
            ["max_shift"] = 1.15,
            ["num_train_timesteps"] = 1000,
            ["shift"] = dev ? 3.0 : 1.0,
            ["use_dynamic_shifting"] = dev,
        });

        var clip = ClipConfig;
        WriteJson(Path.Combine(root, "text_encoder", "config.json"), new JsonObject
        {
            ["_name_or_path"] = "openai/clip-vit-large-patch14",
            ["architectures"] = new JsonArray("CLIPTextModel"),
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = 0,
            ["dropout"] = 0.0,
            ["eos_token_id"] = clip.EosTokenId,
            ["hidden_act"] = clip.HiddenAct,
            ["hidden_size"] = clip.HiddenSize,
            ["initializer_factor"] = 1.0,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = clip.IntermediateSize,
            ["layer_norm_eps"] = clip.LayerNormEps,
            ["max_position_embeddings"] = clip.MaxPositionEmbeddings,
            ["model_type"] = "clip_text_model",
            ["num_attention_heads"] = clip.NumAttentionHeads,
            ["num_hidden_layers"] = clip.NumHiddenLayers,
            ["pad_token_id"] = 1,
            ["projection_dim"] = 768,
            ["torch_dtype"] = "bfloat16",
            ["transformers_version"] = "4.43.3",
            ["vocab_size"] = clip.VocabSize,
        });
        var clipState = State(Model.PooledTextEncoder!);
        // Older CLIP files also hold the position-id buffer, which the loader skips by name.
        clipState.Add(new("text_model.embeddings.position_ids", TensorArithmetic.IntegerRange(0, clip.MaxPositionEmbeddings, ScalarType.Int64, CPU).unsqueeze(0)));
        WriteShards(Path.Combine(root, "text_encoder"), "model", clipState, 1);
        CopyFolder(ClipTokenizerFolder, Path.Combine(root, "tokenizer"));

        var t5 = T5Config;
        WriteJson(Path.Combine(root, "text_encoder_2", "config.json"), new JsonObject
        {
            ["_name_or_path"] = "google/t5-v1_1-xxl",
            ["architectures"] = new JsonArray("T5EncoderModel"),
            ["classifier_dropout"] = 0.0,
            ["d_ff"] = t5.DFf,
            ["d_kv"] = t5.DKv,
            ["d_model"] = t5.DModel,
            ["decoder_start_token_id"] = 0,
            ["dense_act_fn"] = "gelu_new",
            ["dropout_rate"] = 0.1,
            ["eos_token_id"] = 1,
            ["feed_forward_proj"] = "gated-gelu",
            ["initializer_factor"] = 1.0,
            ["is_encoder_decoder"] = true,
            ["is_gated_act"] = true,
            ["layer_norm_epsilon"] = t5.LayerNormEpsilon,
            ["model_type"] = "t5",
            ["num_decoder_layers"] = t5.NumLayers,
            ["num_heads"] = t5.NumHeads,
            ["num_layers"] = t5.NumLayers,
            ["output_past"] = true,
            ["pad_token_id"] = 0,
            ["relative_attention_max_distance"] = t5.RelativeAttentionMaxDistance,
            ["relative_attention_num_buckets"] = t5.RelativeAttentionNumBuckets,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "bfloat16",
            ["transformers_version"] = "4.43.3",
            ["use_cache"] = true,
            ["vocab_size"] = t5.VocabSize,
        });
        var t5State = State(Model.TextEncoder);
        // T5EncoderModel files carry the token embedding twice (shared and encoder.embed_tokens); the loader skips the copy.
        t5State.Add(new("encoder.embed_tokens.weight", t5State.Single(kv => kv.Key == "shared.weight").Value));
        WriteShards(Path.Combine(root, "text_encoder_2"), "model", t5State, 2);
        CopyFolder(T5TokenizerFolder, Path.Combine(root, "tokenizer_2"));

        var transformer = Model.Config.Transformer;
        var bflTransformer = State(Model.Transformer);
        var bflAutoencoder = State(Model.Autoencoder);
        if (layout == FluxWeightsLayout.Diffusers)
        {
            var config = new JsonObject
            {
                ["_class_name"] = "FluxTransformer2DModel",
                ["_diffusers_version"] = "0.30.0.dev0",
                ["attention_head_dim"] = transformer.HeadDim,
                ["guidance_embeds"] = transformer.GuidanceEmbed,
                ["in_channels"] = transformer.InChannels,
                ["joint_attention_dim"] = transformer.ContextInDim,
                ["num_attention_heads"] = transformer.NumHeads,
                ["num_layers"] = transformer.Depth,
                ["num_single_layers"] = transformer.DepthSingleBlocks,
                ["patch_size"] = 1,
                ["pooled_projection_dim"] = transformer.VecInDim,
            };
            // FLUX.1-dev's file has no axes_dims_rope (the class default [16, 56, 56] applies); schnell's lists it.
            if (!dev) config["axes_dims_rope"] = new JsonArray([.. transformer.AxesDim.Select(a => (JsonNode)a)]);
            WriteJson(Path.Combine(root, "transformer", "config.json"), config);
            var diffusers = FluxCheckpointNames.ToDiffusers(bflTransformer.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), transformer);
            WriteShards(Path.Combine(root, "transformer"), "diffusion_pytorch_model", [.. diffusers.OrderBy(kv => kv.Key, StringComparer.Ordinal)], 3);

            var ae = AutoencoderConfig;
            WriteJson(Path.Combine(root, "vae", "config.json"), new JsonObject
            {
                ["_class_name"] = "AutoencoderKL",
                ["_diffusers_version"] = "0.30.0.dev0",
                ["act_fn"] = "silu",
                ["block_out_channels"] = new JsonArray([.. ae.ChMult.Select(m => (JsonNode)(m * ae.Ch))]),
                ["down_block_types"] = new JsonArray([.. ae.ChMult.Select(_ => (JsonNode)"DownEncoderBlock2D")]),
                ["force_upcast"] = true,
                ["in_channels"] = ae.InChannels,
                ["latent_channels"] = ae.ZChannels,
                ["latents_mean"] = null,
                ["latents_std"] = null,
                ["layers_per_block"] = ae.NumResBlocks,
                ["mid_block_add_attention"] = true,
                ["norm_num_groups"] = 32,
                ["out_channels"] = ae.OutCh,
                ["sample_size"] = 1024,
                ["scaling_factor"] = ae.ScaleFactor,
                ["shift_factor"] = ae.ShiftFactor,
                ["up_block_types"] = new JsonArray([.. ae.ChMult.Select(_ => (JsonNode)"UpDecoderBlock2D")]),
                ["use_post_quant_conv"] = false,
                ["use_quant_conv"] = false,
            });
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

    static JsonArray Pair(string library, string className) => new(library, className);

    static List<KeyValuePair<string, Tensor>> State(nn.Module module) =>
        [.. module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value))];

    /// <summary>
    /// One file NAME.safetensors, or NAME-0000i-of-0000n.safetensors plus NAME.safetensors.index.json, split by tensor
    /// count so that fused weights' pieces fall into different shards; floating-point tensors stored in bfloat16.
    /// </summary>
    static void WriteShards(string folder, string name, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, int shards)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var stored = tensors.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.is_floating_point() ? kv.Value.to(ScalarType.BFloat16) : kv.Value)).ToList();
        if (shards == 1)
        {
            SafetensorsFile.Write(Path.Combine(folder, name + ".safetensors"), stored);
            return;
        }
        var weightMap = new JsonObject();
        long total = 0;
        int per = (stored.Count + shards - 1) / shards;
        for (int s = 0; s < shards; s++)
        {
            string file = $"{name}-{s + 1:D5}-of-{shards:D5}.safetensors";
            var part = stored.Skip(s * per).Take(per).ToList();
            SafetensorsFile.Write(Path.Combine(folder, file), part);
            foreach (var (key, tensor) in part)
            {
                weightMap[key] = file;
                total += tensor.numel() * tensor.element_size();
            }
        }
        WriteJson(Path.Combine(folder, name + ".safetensors.index.json"), new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total },
            ["weight_map"] = weightMap,
        });
    }

    static void WriteJson(string path, JsonObject json)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            if (!Path.GetFileName(file).Equals("README.md", StringComparison.OrdinalIgnoreCase))
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }

    public void Dispose() => Model.Dispose();
}
