using Glance.Engine.Models.Clip;

namespace Glance.Engine.Tests.Clip;

public sealed class ClipTextConfigTests : IDisposable
{
    // FLUX.1-dev's text_encoder/config.json as lllyasviel/stable-diffusion-webui-forge vendors it
    // (backend/huggingface/black-forest-labs/FLUX.1-dev/text_encoder/config.json, commit 2d30eee, fetched from the Hub
    // by its download_supported_configs.py).
    const string FluxTextEncoderConfig = """
        {
          "_name_or_path": "openai/clip-vit-large-patch14",
          "architectures": [
            "CLIPTextModel"
          ],
          "attention_dropout": 0.0,
          "bos_token_id": 0,
          "dropout": 0.0,
          "eos_token_id": 2,
          "hidden_act": "quick_gelu",
          "hidden_size": 768,
          "initializer_factor": 1.0,
          "initializer_range": 0.02,
          "intermediate_size": 3072,
          "layer_norm_eps": 1e-05,
          "max_position_embeddings": 77,
          "model_type": "clip_text_model",
          "num_attention_heads": 12,
          "num_hidden_layers": 12,
          "pad_token_id": 1,
          "projection_dim": 768,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.43.3",
          "vocab_size": 49408
        }
        """;

    readonly string _directory = Directory.CreateTempSubdirectory("clip-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string Write(string json)
    {
        string path = Path.Combine(_directory, $"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void ReadsFluxTextEncoderConfig()
    {
        var config = ClipTextConfig.FromHuggingFace(Write(FluxTextEncoderConfig));
        Assert.Equal(new ClipTextConfig(49408, 768, 12, 12, 3072, "quick_gelu", 77, 1e-5, 2), config);
        Assert.Equal(ClipTextConfig.ClipVitLargePatch14, config);
    }

    [Fact]
    public void AbsentFieldsTakeTransformersCLIPTextConfigDefaults()
    {
        // configuration_clip.py, CLIPTextConfig.__init__: vocab 49408, hidden 512, 12 layers, 8 heads, intermediate 2048,
        // quick_gelu, 77 positions, eps 1e-5, eos 49407.
        Assert.Equal(new ClipTextConfig(49408, 512, 12, 8, 2048, "quick_gelu", 77, 1e-5, 49407), ClipTextConfig.FromHuggingFace(Write("{}")));
        Assert.Equal(
            new ClipTextConfig(49408, 768, 12, 8, 2048, "gelu", 77, 1e-5, 49407),
            ClipTextConfig.FromHuggingFace(Write("""{"hidden_size": 768, "hidden_act": "gelu"}""")));
    }

    [Fact]
    public void ReadsTheTextConfigOfAFullClipConfig()
    {
        string json = """{"model_type": "clip", "projection_dim": 768, "text_config": {"hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072}}""";
        Assert.Equal(new ClipTextConfig(49408, 768, 12, 12, 3072, "quick_gelu", 77, 1e-5, 49407), ClipTextConfig.FromHuggingFace(Write(json)));
    }

    [Theory]
    [InlineData("""{"hidden_size": "768"}""", "hidden_size", "\"768\"", "an integer")]
    [InlineData("""{"vocab_size": 49408.5}""", "vocab_size", "49408.5", "an integer")]
    [InlineData("""{"eos_token_id": null}""", "eos_token_id", "null", "an integer")]
    [InlineData("""{"layer_norm_eps": "1e-5"}""", "layer_norm_eps", "\"1e-5\"", "a number")]
    [InlineData("""{"hidden_act": "gelu_new"}""", "hidden_act", "\"gelu_new\"", "\"quick_gelu\", \"gelu\"")]
    [InlineData("""{"model_type": "t5"}""", "model_type", "\"t5\"", "\"clip_text_model\"")]
    public void BadFieldNamesFileFieldValueAndExpectation(string json, string field, string value, string expected)
    {
        string path = Write(json);
        var error = Assert.Throws<InvalidDataException>(() => ClipTextConfig.FromHuggingFace(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{field}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InconsistentValuesNameFileFieldAndValues()
    {
        string path = Write("""{"hidden_size": 770, "num_attention_heads": 12}""");
        var error = Assert.Throws<InvalidDataException>(() => ClipTextConfig.FromHuggingFace(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("\"hidden_size\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("770", error.Message, StringComparison.Ordinal);
        Assert.Contains("12", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateNamesValueReceivedAndExpected()
    {
        var heads = Assert.Throws<ArgumentException>(() => (ClipTextConfig.Tiny with { NumAttentionHeads = 0 }).Validate());
        Assert.Contains("NumAttentionHeads is 0", heads.Message, StringComparison.Ordinal);
        var activation = Assert.Throws<ArgumentException>(() => (ClipTextConfig.Tiny with { HiddenAct = "relu" }).Validate());
        Assert.Contains("'relu'", activation.Message, StringComparison.Ordinal);
        Assert.Contains("quick_gelu, gelu", activation.Message, StringComparison.Ordinal);
        var eos = Assert.Throws<ArgumentException>(() => (ClipTextConfig.Tiny with { EosTokenId = 64 }).Validate());
        Assert.Contains("EosTokenId is 64", eos.Message, StringComparison.Ordinal);
        Assert.Contains("[0, 64)", eos.Message, StringComparison.Ordinal);
    }
}
