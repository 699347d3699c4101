using System.Text.Json.Nodes;
using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;

namespace Glance.Engine.Pipeline;

/// <summary>
/// The JSON files of a Qwen-Image snapshot in the Hugging Face layout (model_index.json, scheduler, text encoder, transformer
/// and VAE configs), written from our configs with the fields the released files carry. Shared by the test fixture builder
/// and benchmarks, so that both write what <see cref="QwenImageSnapshot"/> reads from a real download.
/// </summary>
public static class QwenImageSnapshotFiles
{
    public static void WriteModelIndex(string root) => FluxSnapshotFiles.WriteJson(Path.Combine(root, SnapshotFolder.ModelIndexFile), new JsonObject
    {
        ["_class_name"] = QwenImageSnapshot.PipelineClass,
        ["_diffusers_version"] = "0.34.0.dev0",
        ["scheduler"] = Pair("diffusers", "FlowMatchEulerDiscreteScheduler"),
        ["text_encoder"] = Pair("transformers", "Qwen2_5_VLForConditionalGeneration"),
        ["tokenizer"] = Pair("transformers", "Qwen2Tokenizer"),
        ["transformer"] = Pair("diffusers", "QwenImageTransformer2DModel"),
        ["vae"] = Pair("diffusers", "AutoencoderKLQwenImage"),
    });

    /// <summary>Qwen-Image's schedule: exponential dynamic shift 0.5..0.9 over 256..8192 tokens, stretched to end at 0.02.</summary>
    public static void WriteScheduler(string root) => FluxSnapshotFiles.WriteJson(Path.Combine(root, "scheduler", "scheduler_config.json"), new JsonObject
    {
        ["_class_name"] = "FlowMatchEulerDiscreteScheduler",
        ["_diffusers_version"] = "0.34.0.dev0",
        ["base_image_seq_len"] = 256,
        ["base_shift"] = 0.5,
        ["invert_sigmas"] = false,
        ["max_image_seq_len"] = 8192,
        ["max_shift"] = 0.9,
        ["num_train_timesteps"] = 1000,
        ["shift"] = 1.0,
        ["shift_terminal"] = 0.02,
        ["stochastic_sampling"] = false,
        ["time_shift_type"] = "exponential",
        ["use_beta_sigmas"] = false,
        ["use_dynamic_shifting"] = true,
        ["use_exponential_sigmas"] = false,
        ["use_karras_sigmas"] = false,
    });

    public static void WriteTransformerConfig(string folder, QwenImageConfig transformer)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        FluxSnapshotFiles.WriteJson(Path.Combine(folder, SnapshotFolder.ConfigFile), new JsonObject
        {
            ["_class_name"] = "QwenImageTransformer2DModel",
            ["_diffusers_version"] = "0.34.0.dev0",
            ["attention_head_dim"] = transformer.AttentionHeadDim,
            ["axes_dims_rope"] = new JsonArray([.. transformer.AxesDimsRope.Select(a => (JsonNode)a)]),
            ["guidance_embeds"] = false,
            ["in_channels"] = transformer.InChannels,
            ["joint_attention_dim"] = transformer.JointAttentionDim,
            ["num_attention_heads"] = transformer.NumAttentionHeads,
            ["num_layers"] = transformer.NumLayers,
            ["out_channels"] = transformer.OutChannels,
            ["patch_size"] = transformer.PatchSize,
            ["pooled_projection_dim"] = 768,
        });
    }

    public static void WriteVaeConfig(string folder, QwenImageAutoencoderConfig vae)
    {
        ArgumentNullException.ThrowIfNull(vae);
        FluxSnapshotFiles.WriteJson(Path.Combine(folder, SnapshotFolder.ConfigFile), new JsonObject
        {
            ["_class_name"] = "AutoencoderKLQwenImage",
            ["_diffusers_version"] = "0.34.0.dev0",
            ["attn_scales"] = new JsonArray([.. vae.AttnScales.Select(a => (JsonNode)a)]),
            ["base_dim"] = vae.BaseDim,
            ["dim_mult"] = new JsonArray([.. vae.DimMult.Select(a => (JsonNode)a)]),
            ["dropout"] = 0.0,
            ["latents_mean"] = new JsonArray([.. vae.LatentsMean.Select(a => (JsonNode)a)]),
            ["latents_std"] = new JsonArray([.. vae.LatentsStd.Select(a => (JsonNode)a)]),
            ["num_res_blocks"] = vae.NumResBlocks,
            ["temperal_downsample"] = new JsonArray([.. vae.TemperalDownsample.Select(a => (JsonNode)a)]),
            ["z_dim"] = vae.ZDim,
        });
    }

    /// <summary>
    /// The text encoder's config.json: the released flat layout (transformers 4.49-4.53), or with <paramref name="textConfigSection"/>
    /// the newer one whose language-model fields sit in "text_config".
    /// </summary>
    public static void WriteTextEncoderConfig(string folder, Qwen25VLTextConfig text, int[] mropeSection, bool textConfigSection = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(mropeSection);
        var language = new JsonObject
        {
            ["attention_dropout"] = 0.0,
            ["hidden_act"] = "silu",
            ["hidden_size"] = text.HiddenSize,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = text.IntermediateSize,
            ["max_position_embeddings"] = text.MaxPositionEmbeddings,
            ["max_window_layers"] = text.NumLayers,
            ["num_attention_heads"] = text.NumHeads,
            ["num_hidden_layers"] = text.NumLayers,
            ["num_key_value_heads"] = text.NumKeyValueHeads,
            ["rms_norm_eps"] = text.RmsNormEps,
            ["rope_scaling"] = new JsonObject
            {
                ["mrope_section"] = new JsonArray([.. mropeSection.Select(a => (JsonNode)a)]),
                ["rope_type"] = "default",
                ["type"] = "default",
            },
            ["rope_theta"] = text.RopeTheta,
            ["sliding_window"] = 32768,
            ["tie_word_embeddings"] = false,
            ["use_cache"] = true,
            ["use_sliding_window"] = false,
            ["vocab_size"] = text.VocabSize,
        };
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen2_5_VLForConditionalGeneration"),
            ["bos_token_id"] = 151643,
            ["eos_token_id"] = 151645,
            ["image_token_id"] = 151655,
            ["model_type"] = "qwen2_5_vl",
            ["torch_dtype"] = "bfloat16",
            ["transformers_version"] = textConfigSection ? "4.57.0" : "4.49.0",
            ["video_token_id"] = 151656,
            ["vision_end_token_id"] = 151653,
            ["vision_start_token_id"] = 151652,
            ["vision_token_id"] = 151654,
        };
        if (textConfigSection)
        {
            language["model_type"] = "qwen2_5_vl_text";
            config["text_config"] = language;
        }
        else
        {
            foreach (var (key, value) in language.ToArray())
            {
                language.Remove(key);
                config[key] = value;
            }
        }
        FluxSnapshotFiles.WriteJson(Path.Combine(folder, SnapshotFolder.ConfigFile), config);
    }

    static JsonArray Pair(string library, string className) => new(library, className);
}
