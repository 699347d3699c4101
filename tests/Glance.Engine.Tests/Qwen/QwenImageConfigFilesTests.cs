using Glance.Engine.Models.Qwen;

namespace Glance.Engine.Tests.Qwen;

public sealed class QwenImageConfigFilesTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("glance-qwen-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Write(string json)
    {
        string path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    // The fields of Qwen/Qwen-Image's transformer/config.json (a leftover pooled_projection_dim included, which the class ignores).
    const string Published = """
        {
          "_class_name": "QwenImageTransformer2DModel",
          "_diffusers_version": "0.34.0.dev0",
          "attention_head_dim": 128,
          "axes_dims_rope": [16, 56, 56],
          "guidance_embeds": false,
          "in_channels": 64,
          "joint_attention_dim": 3584,
          "num_attention_heads": 24,
          "num_layers": 60,
          "out_channels": 16,
          "patch_size": 2,
          "pooled_projection_dim": 768
        }
        """;

    static void AssertPublishedShape(QwenImageConfig config)
    {
        Assert.Equal(2, config.PatchSize);
        Assert.Equal(64, config.InChannels);
        Assert.Equal(16, config.OutChannels);
        Assert.Equal(60, config.NumLayers);
        Assert.Equal(128, config.AttentionHeadDim);
        Assert.Equal(24, config.NumAttentionHeads);
        Assert.Equal(3584, config.JointAttentionDim);
        Assert.Equal(new[] { 16, 56, 56 }, config.AxesDimsRope);
        Assert.Equal(10_000, config.Theta);
        Assert.False(config.GuidanceEmbeds);
        Assert.Equal(3072, config.InnerDim);
        Assert.Equal(64, config.OutFeatures);
    }

    [Fact]
    public void PublishedConfigReadsAsQwenImage() => AssertPublishedShape(QwenImageConfigFiles.FromDiffusers(Write(Published)));

    [Fact]
    public void AbsentFieldsTakeTheDiffusersClassDefaults() => AssertPublishedShape(QwenImageConfigFiles.FromDiffusers(Write("{}")));

    [Fact]
    public void NullOutChannelsMeansInChannels()
    {
        var config = QwenImageConfigFiles.FromDiffusers(Write("""{"in_channels": 16, "out_channels": null}"""));
        Assert.Equal(16, config.OutChannels);
    }

    [Theory]
    [InlineData("guidance_embeds")]
    [InlineData("zero_cond_t")]
    [InlineData("use_additional_t_cond")]
    [InlineData("use_layer3d_rope")]
    public void VariantsThisEngineDoesNotImplementAreRefusedNamingTheField(string field)
    {
        string path = Write($$"""{"{{field}}": true}""");
        var error = Assert.Throws<InvalidDataException>(() => QwenImageConfigFiles.FromDiffusers(path));
        Assert.Contains($"field \"{field}\" is true", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnotherModelClassIsRefused()
    {
        var error = Assert.Throws<InvalidDataException>(() => QwenImageConfigFiles.FromDiffusers(Write("""{"_class_name": "FluxTransformer2DModel"}""")));
        Assert.Contains("\"FluxTransformer2DModel\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected \"QwenImageTransformer2DModel\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RopeAxesMustAddUpToTheHeadSize()
    {
        var error = Assert.Throws<InvalidDataException>(() => QwenImageConfigFiles.FromDiffusers(Write("""{"attention_head_dim": 64}""")));
        Assert.Contains("axes_dims_rope", error.Message, StringComparison.Ordinal);
        Assert.Contains("[16, 56, 56]", error.Message, StringComparison.Ordinal);
        Assert.Contains("(64)", error.Message, StringComparison.Ordinal);
    }
}
