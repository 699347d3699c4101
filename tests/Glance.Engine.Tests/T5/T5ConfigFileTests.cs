using Glance.Engine.Models.T5;

namespace Glance.Engine.Tests.T5;

public sealed class T5ConfigFileTests : IDisposable
{
    /// <summary>
    /// text_encoder_2/config.json of black-forest-labs/FLUX.1-dev (google/t5-v1_1-xxl saved by transformers 4.43.3),
    /// field for field as published; checked against the copy vendored by lllyasviel/stable-diffusion-webui-forge,
    /// backend/huggingface/black-forest-labs/FLUX.1-dev/text_encoder_2/config.json at commit 2d30eeedfdda59ab06a2fcd8a1c4f0ac0d228d9d.
    /// </summary>
    const string Flux1DevTextEncoder2 = """
        {
          "_name_or_path": "google/t5-v1_1-xxl",
          "architectures": [
            "T5EncoderModel"
          ],
          "classifier_dropout": 0.0,
          "d_ff": 10240,
          "d_kv": 64,
          "d_model": 4096,
          "decoder_start_token_id": 0,
          "dense_act_fn": "gelu_new",
          "dropout_rate": 0.1,
          "eos_token_id": 1,
          "feed_forward_proj": "gated-gelu",
          "initializer_factor": 1.0,
          "is_encoder_decoder": true,
          "is_gated_act": true,
          "layer_norm_epsilon": 1e-06,
          "model_type": "t5",
          "num_decoder_layers": 24,
          "num_heads": 64,
          "num_layers": 24,
          "output_past": true,
          "pad_token_id": 0,
          "relative_attention_max_distance": 128,
          "relative_attention_num_buckets": 32,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.43.3",
          "use_cache": true,
          "vocab_size": 32128
        }
        """;

    readonly string _folder = Directory.CreateTempSubdirectory("glance-t5-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Write(string json)
    {
        string path = Path.Combine(_folder, $"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Flux1DevTextEncoderConfigIsTheXxlEncoder()
    {
        var config = T5Config.FromHuggingFace(Write(Flux1DevTextEncoder2));
        Assert.Equal(T5Config.T5V11Xxl, config);
        Assert.Equal((32128, 4096, 64, 10240, 24, 64, 32, 128, 1e-6),
            (config.VocabSize, config.DModel, config.DKv, config.DFf, config.NumLayers, config.NumHeads,
             config.RelativeAttentionNumBuckets, config.RelativeAttentionMaxDistance, config.LayerNormEpsilon));
    }

    [Fact]
    public void AbsentFieldsTakeTransformersT5ConfigDefaults()
    {
        // T5Config(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8,
        // relative_attention_num_buckets=32, relative_attention_max_distance=128, layer_norm_epsilon=1e-6).
        var config = T5Config.FromHuggingFace(Write("""{ "feed_forward_proj": "gated-gelu" }"""));
        Assert.Equal(new T5Config(32128, 512, 64, 2048, 6, 8, 32, 128, 1e-6), config);
    }

    [Fact]
    public void ActivationGivenOnlyAsGatedTanhGeluIsAccepted()
    {
        // transformers lets is_gated_act / dense_act_fn from the file override what feed_forward_proj (default "relu")
        // implies, so this file, without feed_forward_proj, describes a gated GELU(tanh) model too.
        var config = T5Config.FromHuggingFace(Write("""{ "d_model": 64, "d_ff": 128, "dense_act_fn": "gelu_pytorch_tanh", "is_gated_act": true }"""));
        Assert.Equal((64, 128), (config.DModel, config.DFf));
    }

    [Theory]
    [InlineData("""{ "feed_forward_proj": "relu" }""", "feed_forward_proj", "\"relu\"")]
    [InlineData("""{ "feed_forward_proj": "gated-silu" }""", "feed_forward_proj", "\"gated-silu\"")]
    [InlineData("""{ "feed_forward_proj": "gelu-new-x" }""", "feed_forward_proj", "\"gelu-new-x\"")]
    [InlineData("""{ "d_model": 512 }""", "feed_forward_proj", "absent")]
    [InlineData("""{ "feed_forward_proj": "gated-gelu", "dense_act_fn": "gelu" }""", "dense_act_fn", "\"gelu\"")]
    [InlineData("""{ "feed_forward_proj": "gated-gelu", "is_gated_act": false }""", "is_gated_act", "false")]
    [InlineData("""{ "feed_forward_proj": "gated-gelu", "model_type": "umt5" }""", "model_type", "\"umt5\"")]
    public void UnsupportedValuesAreRefusedNamingFileFieldValueAndWhatIsSupported(string json, string field, string value)
    {
        string path = Write(json);
        var error = Assert.Throws<InvalidDataException>(() => T5Config.FromHuggingFace(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{field}\" is {value}", error.Message, StringComparison.Ordinal);
        Assert.Contains("supported:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FeedForwardErrorsNameTheSupportedGatedGelu()
    {
        string path = Write("""{ "feed_forward_proj": "relu" }""");
        var error = Assert.Throws<InvalidDataException>(() => T5Config.FromHuggingFace(path));
        Assert.Contains("\"gated-gelu\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "feed_forward_proj": "gated-gelu", "d_model": "4096" }""", "d_model")]
    [InlineData("""{ "feed_forward_proj": "gated-gelu", "num_heads": 6.5 }""", "num_heads")]
    [InlineData("""{ "feed_forward_proj": "gated-gelu", "layer_norm_epsilon": null }""", "layer_norm_epsilon")]
    [InlineData("""{ "feed_forward_proj": "gated-gelu", "is_gated_act": "yes" }""", "is_gated_act")]
    public void FieldsOfTheWrongTypeAreRefusedNamingTheField(string json, string field)
    {
        string path = Write(json);
        var error = Assert.Throws<InvalidDataException>(() => T5Config.FromHuggingFace(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{field}\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEncoderThatCannotBeBuiltIsRefusedNamingTheFile()
    {
        string path = Write("""{ "feed_forward_proj": "gated-gelu", "relative_attention_num_buckets": 30 }""");
        var error = Assert.Throws<InvalidDataException>(() => T5Config.FromHuggingFace(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("30", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFileAndInvalidJsonFailNamingThePath()
    {
        string missing = Path.Combine(_folder, "absent.json");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => T5Config.FromHuggingFace(missing)).Message, StringComparison.Ordinal);
        string broken = Write("{ \"d_model\": ");
        Assert.Contains(broken, Assert.Throws<InvalidDataException>(() => T5Config.FromHuggingFace(broken)).Message, StringComparison.Ordinal);
    }
}
