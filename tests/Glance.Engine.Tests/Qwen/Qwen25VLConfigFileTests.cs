using Glance.Engine.Models.Qwen;

namespace Glance.Engine.Tests.Qwen;

/// <summary>Qwen25VLTextConfig.FromHuggingFace on the flat layout, the text_config layout and transformers 5's rope_parameters.</summary>
public sealed class Qwen25VLConfigFileTests : IDisposable
{
    /// <summary>
    /// Qwen/Qwen2.5-VL-7B-Instruct's config.json in its published, flat layout (written for transformers 4.41.2; model_type
    /// "qwen2_5_vl", language-model fields at the top level, rope_scaling type "mrope").
    /// </summary>
    const string FlatLayout = """
        {
          "architectures": [
            "Qwen2_5_VLForConditionalGeneration"
          ],
          "attention_dropout": 0.0,
          "bos_token_id": 151643,
          "eos_token_id": 151645,
          "vision_start_token_id": 151652,
          "vision_end_token_id": 151653,
          "vision_token_id": 151654,
          "image_token_id": 151655,
          "video_token_id": 151656,
          "hidden_act": "silu",
          "hidden_size": 3584,
          "initializer_range": 0.02,
          "intermediate_size": 18944,
          "max_position_embeddings": 128000,
          "max_window_layers": 28,
          "model_type": "qwen2_5_vl",
          "num_attention_heads": 28,
          "num_hidden_layers": 28,
          "num_key_value_heads": 4,
          "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0,
          "sliding_window": 32768,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.41.2",
          "use_cache": true,
          "use_sliding_window": false,
          "vision_config": {
            "depth": 32,
            "hidden_act": "silu",
            "hidden_size": 1280,
            "intermediate_size": 3420,
            "num_heads": 16,
            "in_chans": 3,
            "out_hidden_size": 3584,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "spatial_patch_size": 14,
            "window_size": 112,
            "fullatt_block_indexes": [7, 15, 23, 31],
            "tokens_per_second": 2,
            "temporal_patch_size": 2
          },
          "rope_scaling": {
            "type": "mrope",
            "mrope_section": [16, 24, 24]
          },
          "vocab_size": 152064
        }
        """;

    /// <summary>
    /// A Qwen-Image(-Edit) text_encoder/config.json as transformers 4.54.0 saves it: the top-level fields plus a
    /// "text_config" section (model_type "qwen2_5_vl_text", layer_types, sliding_window null there but 32768 at the top
    /// level, which is not read). Field for field as quoted in a public copy of Qwen-Image-Edit-2511's text encoder
    /// config; the 28 layer_types entries are all "full_attention".
    /// </summary>
    static string TextConfigLayout(string rope = RopeScaling, string textRopeTheta = "\"rope_theta\": 1000000.0,", int textHidden = 3584) => $$"""
        {
          "architectures": ["Qwen2_5_VLForConditionalGeneration"],
          "attention_dropout": 0.0,
          "bos_token_id": 151643,
          "eos_token_id": 151645,
          "hidden_act": "silu",
          "hidden_size": 3584,
          "image_token_id": 151655,
          "initializer_range": 0.02,
          "intermediate_size": 18944,
          "max_position_embeddings": 128000,
          "max_window_layers": 28,
          "model_type": "qwen2_5_vl",
          "num_attention_heads": 28,
          "num_hidden_layers": 28,
          "num_key_value_heads": 4,
          "rms_norm_eps": 1e-06,
          "rope_scaling": {"mrope_section": [16, 24, 24], "rope_type": "default", "type": "default"},
          "rope_theta": 1000000.0,
          "sliding_window": 32768,
          "text_config": {
            "architectures": ["Qwen2_5_VLForConditionalGeneration"],
            "attention_dropout": 0.0,
            "bos_token_id": 151643,
            "eos_token_id": 151645,
            "hidden_act": "silu",
            "hidden_size": {{textHidden}},
            "image_token_id": null,
            "initializer_range": 0.02,
            "intermediate_size": 18944,
            "layer_types": [{{string.Join(", ", Enumerable.Repeat("\"full_attention\"", 28))}}],
            "max_position_embeddings": 128000,
            "max_window_layers": 28,
            "model_type": "qwen2_5_vl_text",
            "num_attention_heads": 28,
            "num_hidden_layers": 28,
            "num_key_value_heads": 4,
            "rms_norm_eps": 1e-06,
            {{rope}}
            {{textRopeTheta}}
            "sliding_window": null,
            "torch_dtype": "float32",
            "use_cache": true,
            "use_sliding_window": false,
            "video_token_id": null,
            "vision_end_token_id": 151653,
            "vision_start_token_id": 151652,
            "vision_token_id": 151654,
            "vocab_size": 152064
          },
          "tie_word_embeddings": false,
          "torch_dtype": "float32",
          "transformers_version": "4.54.0",
          "use_cache": true,
          "use_sliding_window": false,
          "video_token_id": 151656,
          "vision_config": {"depth": 32, "hidden_size": 1280, "out_hidden_size": 3584, "model_type": "qwen2_5_vl"},
          "vision_end_token_id": 151653,
          "vision_start_token_id": 151652,
          "vision_token_id": 151654,
          "vocab_size": 152064
        }
        """;

    const string RopeScaling = "\"rope_scaling\": {\"mrope_section\": [16, 24, 24], \"rope_type\": \"default\", \"type\": \"default\"},";

    readonly string _folder = Directory.CreateTempSubdirectory("glance-qwen-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Write(string json)
    {
        string path = Path.Combine(_folder, $"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    static InvalidDataException Refused(string path) => Assert.Throws<InvalidDataException>(() => Qwen25VLTextConfig.FromHuggingFace(path));

    [Fact]
    public void TheFlatLayoutIsTheSevenBillionLanguageModel()
    {
        var config = Qwen25VLTextConfig.FromHuggingFace(Write(FlatLayout));
        Assert.Equal(Qwen25VLTextConfig.Qwen25VL7BInstruct, config);
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(1e6, config.RopeTheta);
        Assert.Equal(1e-6, config.RmsNormEps);
    }

    [Fact]
    public void TheTextConfigLayoutIsTheSameModel()
    {
        Assert.Equal(Qwen25VLTextConfig.Qwen25VL7BInstruct, Qwen25VLTextConfig.FromHuggingFace(Write(TextConfigLayout())));
    }

    [Fact]
    public void TransformersFiveRopeParametersCarryTheta()
    {
        string rope = "\"rope_parameters\": {\"mrope_section\": [16, 24, 24], \"rope_type\": \"default\", \"rope_theta\": 1000000.0},";
        var config = Qwen25VLTextConfig.FromHuggingFace(Write(TextConfigLayout(rope, textRopeTheta: "")));
        Assert.Equal(Qwen25VLTextConfig.Qwen25VL7BInstruct, config);
    }

    [Fact]
    public void ThetaInTheRopeObjectAndBesideItMustAgree()
    {
        string rope = "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0},";
        var e = Refused(Write(TextConfigLayout(rope)));
        Assert.Contains("\"text_config.rope_theta\" is 1000000", e.Message, StringComparison.Ordinal);
        Assert.Contains("rope_parameters.rope_theta", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TopLevelAndTextConfigMustAgree()
    {
        var e = Refused(Write(TextConfigLayout(textHidden: 4096)));
        Assert.Contains("\"hidden_size\" is 3584", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"text_config.hidden_size\" (4096)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("yarn")]
    [InlineData("linear")]
    [InlineData("dynamic")]
    public void ScaledRotaryIsRefusedNamingTheField(string type)
    {
        var e = Refused(Write(FlatLayout.Replace("\"type\": \"mrope\"", $"\"type\": \"{type}\"", StringComparison.Ordinal)));
        Assert.Contains($"\"rope_scaling.type\" is \"{type}\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"default\" or \"mrope\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScaledRotaryIsRefusedInTheTextConfigToo()
    {
        var e = Refused(Write(TextConfigLayout("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0},")));
        Assert.Contains("\"text_config.rope_scaling.rope_type\" is \"yarn\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MropeSectionsMustCoverHalfTheHead()
    {
        var e = Refused(Write(FlatLayout.Replace("[16, 24, 24]", "[16, 24, 16]", StringComparison.Ordinal)));
        Assert.Contains("\"rope_scaling.mrope_section\" is [16, 24, 16]", e.Message, StringComparison.Ordinal);
        Assert.Contains("head_dim / 2 = 64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlySiluIsSupported()
    {
        var e = Refused(Write(FlatLayout.Replace("\"hidden_act\": \"silu\",\n  \"hidden_size\"", "\"hidden_act\": \"gelu\",\n  \"hidden_size\"", StringComparison.Ordinal)));
        Assert.Contains("\"hidden_act\" is \"gelu\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SlidingWindowLayersAreRefused()
    {
        string json = FlatLayout
            .Replace("\"use_sliding_window\": false", "\"use_sliding_window\": true", StringComparison.Ordinal)
            .Replace("\"max_window_layers\": 28", "\"max_window_layers\": 14", StringComparison.Ordinal);
        var e = Refused(Write(json));
        Assert.Contains("\"use_sliding_window\" is true", e.Message, StringComparison.Ordinal);
        Assert.Contains("max_window_layers (14)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SlidingWindowWithEveryLayerBelowMaxWindowLayersIsFullAttention()
    {
        // transformers makes only the layers from max_window_layers on sliding; 28 of 28 leaves none.
        var config = Qwen25VLTextConfig.FromHuggingFace(Write(FlatLayout.Replace("\"use_sliding_window\": false", "\"use_sliding_window\": true", StringComparison.Ordinal)));
        Assert.Equal(28, config.NumLayers);
    }

    [Fact]
    public void AnotherModelTypeIsRefused()
    {
        var e = Refused(Write(FlatLayout.Replace("\"model_type\": \"qwen2_5_vl\"", "\"model_type\": \"llama\"", StringComparison.Ordinal)));
        Assert.Contains("\"model_type\" is \"llama\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHeadDimOtherThanHiddenOverHeadsIsRefused()
    {
        var e = Refused(Write(FlatLayout.Replace("\"hidden_size\": 3584,", "\"hidden_size\": 3584,\n  \"head_dim\": 64,", StringComparison.Ordinal)));
        Assert.Contains("\"head_dim\" is 64", e.Message, StringComparison.Ordinal);
        Assert.Contains("3584 / 28 = 128", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullKeyValueHeadsMeansOnePerQueryHead()
    {
        var config = Qwen25VLTextConfig.FromHuggingFace(Write(FlatLayout.Replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": null", StringComparison.Ordinal)));
        Assert.Equal(28, config.NumKeyValueHeads);
    }

    [Fact]
    public void SizesThatCannotBuildAModelNameTheFile()
    {
        string path = Write(FlatLayout.Replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 5", StringComparison.Ordinal));
        var e = Refused(path);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("NumKeyValueHeads is 5", e.Message, StringComparison.Ordinal);
    }
}
