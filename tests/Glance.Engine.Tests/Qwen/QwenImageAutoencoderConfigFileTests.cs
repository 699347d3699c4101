using System.Text.Json.Nodes;
using Glance.Engine.Models.Qwen;

namespace Glance.Engine.Tests.Qwen;

public sealed class QwenImageAutoencoderConfigFileTests : IDisposable
{
    // vae/config.json of Qwen/Qwen-Image, written from the values that diffusers' AutoencoderKLQwenImage constructor
    // defaults carry (autoencoder_kl_qwenimage.py) and that public copies of the file quote field for field; the hub
    // file itself was not read here.
    const string QwenImageVaeConfig = """
        {
          "_class_name": "AutoencoderKLQwenImage",
          "_diffusers_version": "0.34.0.dev0",
          "attn_scales": [],
          "base_dim": 96,
          "dim_mult": [1, 2, 4, 4],
          "dropout": 0.0,
          "latents_mean": [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
          "latents_std": [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916],
          "num_res_blocks": 2,
          "temperal_downsample": [false, true, true],
          "z_dim": 16
        }
        """;

    readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("glance-qwen-vae-config-");

    public void Dispose() => _folder.Delete(recursive: true);

    string Write(string json)
    {
        string path = Path.Combine(_folder.FullName, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    string WriteQwenImageWith(Action<JsonObject> change)
    {
        var node = JsonNode.Parse(QwenImageVaeConfig)!.AsObject();
        change(node);
        return Write(node.ToJsonString());
    }

    static void AssertSameAsQwenImage(QwenImageAutoencoderConfig config)
    {
        var expected = QwenImageAutoencoderConfig.QwenImage;
        Assert.Equal(96, config.BaseDim);
        Assert.Equal(16, config.ZDim);
        Assert.Equal([1, 2, 4, 4], config.DimMult);
        Assert.Equal(2, config.NumResBlocks);
        Assert.Empty(config.AttnScales);
        Assert.Equal([false, true, true], config.TemperalDownsample);
        Assert.Equal(expected.LatentsMean, config.LatentsMean);
        Assert.Equal(expected.LatentsStd, config.LatentsStd);
        Assert.Equal(-0.7571, config.LatentsMean[0]);
        Assert.Equal(1.916, config.LatentsStd[15]);
        Assert.Equal(8, config.DownsampleFactor);
    }

    [Fact]
    public void QwenImageVaeConfigGivesTheReleasedAutoencoder() =>
        AssertSameAsQwenImage(QwenImageAutoencoderConfig.FromDiffusers(Write(QwenImageVaeConfig)));

    [Fact]
    public void AbsentFieldsTakeTheClassDefaults() =>
        AssertSameAsQwenImage(QwenImageAutoencoderConfig.FromDiffusers(Write("{}")));

    [Fact]
    public void ATinyConfigIsReadFieldForField()
    {
        var tiny = QwenImageVaeTestModels.Tiny with { AttnScales = [1.0, 0.25] };

        var config = QwenImageAutoencoderConfig.FromDiffusers(Write(QwenImageVaeFolder.ConfigJson(tiny)));

        Assert.Equal(tiny.BaseDim, config.BaseDim);
        Assert.Equal(tiny.ZDim, config.ZDim);
        Assert.Equal(tiny.DimMult, config.DimMult);
        Assert.Equal(tiny.NumResBlocks, config.NumResBlocks);
        Assert.Equal(tiny.AttnScales, config.AttnScales);
        Assert.Equal(tiny.TemperalDownsample, config.TemperalDownsample);
        Assert.Equal(tiny.LatentsMean, config.LatentsMean);
        Assert.Equal(tiny.LatentsStd, config.LatentsStd);
        Assert.Equal(4, config.DownsampleFactor);
    }

    public static TheoryData<string, string, string> Refusals => new()
    {
        { "_class_name", "\"AutoencoderKLWan\"", "AutoencoderKLQwenImage" },
        { "input_channels", "4", "supported: 3" },
        { "temperal_downsample", "[false, true]", "expected 3" },
        { "temperal_downsample", "[0, 1, 1]", "true / false" },
        { "latents_mean", "[0.5, 0.5]", "has 2 values; expected 16" },
        { "latents_std", "[2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 0]", "LatentsStd[15] is 0" },
        { "dim_mult", "null", "expected an array of integers" },
        { "z_dim", "\"16\"", "expected an integer" },
        { "attn_scales", "[1.0, \"half\"]", "expected a number" },
        { "base_dim", "1", "BaseDim is 1; expected at least 2" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void UnsupportedOrMalformedFieldsFailNamingTheFileAndTheField(string field, string json, string expected)
    {
        string path = WriteQwenImageWith(node => node[field] = JsonNode.Parse(json));

        var error = Assert.Throws<InvalidDataException>(() => QwenImageAutoencoderConfig.FromDiffusers(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{field}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateNamesTheValueReceivedAndTheValueExpected()
    {
        var config = QwenImageAutoencoderConfig.QwenImage with { DimMult = [1, 2] };

        var error = Assert.Throws<ArgumentException>(config.Validate);

        Assert.Contains("TemperalDownsample has 3 entries; expected 1", error.Message, StringComparison.Ordinal);
    }
}
