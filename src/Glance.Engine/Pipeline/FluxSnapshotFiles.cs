using System.Text.Json;
using System.Text.Json.Nodes;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.Flux;
using Glance.Engine.Models.T5;

namespace Glance.Engine.Pipeline;

/// <summary>
/// The JSON files of a FLUX.1 snapshot in the Hugging Face layout (model_index.json, scheduler, CLIP, T5, transformer and VAE
/// configs), written from our configs with the fields the released files carry. Shared by the test fixture builder and
/// `glance bench write-snapshot`, so that both write what <see cref="FluxSnapshot"/> reads from a real download.
/// </summary>
public static class FluxSnapshotFiles
{
    public static void WriteModelIndex(string root) => WriteJson(Path.Combine(root, FluxSnapshot.ModelIndexFile), new JsonObject
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

    /// <summary>dev: dynamic shifting (shift 3.0 unused); schnell: a fixed shift of 1.0.</summary>
    public static void WriteScheduler(string root, bool dev) => WriteJson(Path.Combine(root, "scheduler", "scheduler_config.json"), new JsonObject
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

    public static void WriteClipConfig(string folder, ClipTextConfig clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        WriteJson(Path.Combine(folder, "config.json"), new JsonObject
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
    }

    public static void WriteT5Config(string folder, T5Config t5)
    {
        ArgumentNullException.ThrowIfNull(t5);
        WriteJson(Path.Combine(folder, "config.json"), new JsonObject
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
    }

    public static void WriteTransformerConfig(string folder, FluxConfig transformer, bool dev)
    {
        ArgumentNullException.ThrowIfNull(transformer);
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
        WriteJson(Path.Combine(folder, "config.json"), config);
    }

    public static void WriteVaeConfig(string folder, AutoencoderConfig ae)
    {
        ArgumentNullException.ThrowIfNull(ae);
        WriteJson(Path.Combine(folder, "config.json"), new JsonObject
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
    }

    /// <summary>Copies a tokenizer folder's files (not a README naming their origin) into the snapshot.</summary>
    public static void CopyTokenizer(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            if (!Path.GetFileName(file).Equals("README.md", StringComparison.OrdinalIgnoreCase))
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }

    public static void WriteJson(string path, JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static JsonArray Pair(string library, string className) => new(library, className);
}
