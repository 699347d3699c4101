using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// The diffusers AutoencoderKLQwenImage checkpoint layout: our state dict has its keys and shapes (5-D causal
/// convolution weights included), so a vae/ folder loads by identity through <see cref="PlacedCheckpointLoader"/>,
/// and anything else fails naming the key and the file.
/// </summary>
public sealed class QwenImageAutoencoderCheckpointTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("glance-qwen-vae-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    static void Load(QwenImageAutoencoder model, string folder) =>
        PlacedCheckpointLoader.Load(model, folder, QwenImageAutoencoderCheckpointNames.Map, QwenImageAutoencoderCheckpointNames.Format);

    /// <summary>A seeded tiny model whose weights are bfloat16 values, so that a bfloat16 file holds them exactly.</summary>
    static QwenImageAutoencoder RoundedSource(long seed)
    {
        var model = QwenImageVaeTestModels.Seeded(QwenImageVaeTestModels.Tiny, seed);
        using var noGrad = no_grad();
        foreach (var parameter in model.parameters())
        {
            using var rounded = parameter.to(ScalarType.BFloat16);
            parameter.copy_(rounded);
        }
        return model;
    }

    [Fact]
    public void ABfloat16VaeFolderLoadsByIdentityAndDecodesAndEncodesAlike()
    {
        using var source = RoundedSource(61);
        using var scope = NewDisposeScope();
        string folder = QwenImageVaeFolder.Write(_root, source.Config, QwenImageVaeTestModels.StateOf(source), ScalarType.BFloat16);

        var header = SafetensorsFile.ReadHeader(Path.Combine(folder, QwenImageVaeFolder.WeightsFile));
        Assert.All(header.Entries, e => Assert.Equal(ScalarType.BFloat16, e.DType));
        Assert.Equal([16L, 4, 3, 3, 3], header.Entries.Single(e => e.Name == "decoder.conv_in.weight").Shape);
        var config = QwenImageAutoencoderConfig.FromDiffusers(Path.Combine(folder, "config.json"));
        Assert.Equal(source.Config.DimMult, config.DimMult);
        Assert.Equal(source.Config.TemperalDownsample, config.TemperalDownsample);
        Assert.Equal(source.Config.LatentsStd, config.LatentsStd);
        using var loaded = new QwenImageAutoencoder(config);
        using var loadedBfloat16 = new QwenImageAutoencoder(config, ScalarType.BFloat16);

        Load(loaded, folder);
        Load(loadedBfloat16, folder);

        var expected = source.state_dict();
        foreach (var (key, value) in loaded.state_dict())
        {
            Assert.True(value.equal(expected[key]).all().item<bool>(), $"'{key}' differs after loading");
            Assert.True(loadedBfloat16.state_dict()[key].to(ScalarType.Float32).equal(expected[key]).all().item<bool>(), $"'{key}' differs after loading into bfloat16");
        }
        using var noGrad = no_grad();
        using var generator = new Generator(23, CPU);
        var latents = randn([1, 4, 4, 4], generator: generator);
        var images = rand([1, 3, 16, 16], generator: generator).Times(2.0).Minus(1);
        Assert.True(loaded.Decode(latents).equal(source.Decode(latents)).all().item<bool>(), "decoded images differ");
        Assert.True(loaded.Encode(images).equal(source.Encode(images)).all().item<bool>(), "encoded latents differ");
    }

    [Theory]
    [InlineData("encoder.down_blocks.0.norm1.weight")] // a norm under another model's parameter name
    [InlineData("decoder.mid_block.attentions.0.to_q.weight")] // split q/k/v, as other autoencoders store them
    [InlineData("decoder.up_blocks.3.resnets.0.conv1.weight")] // well formed, but the tiny config has three up blocks
    public void AKeyTheModelDoesNotHaveFailsNamingTheKeyAndTheFile(string key)
    {
        using var source = RoundedSource(67);
        using var scope = NewDisposeScope();
        var extra = new Dictionary<string, Tensor> { [key] = zeros([8, 8, 3, 3, 3], dtype: ScalarType.BFloat16) };
        string folder = QwenImageVaeFolder.Write(_root, source.Config, QwenImageVaeTestModels.StateOf(source), ScalarType.BFloat16, extra);
        using var model = new QwenImageAutoencoder(source.Config);

        var error = Assert.Throws<InvalidDataException>(() => Load(model, folder));

        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(QwenImageVaeFolder.WeightsFile, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingTimeConvWeightFailsNamingIt()
    {
        // Unused for single images, but part of the checkpoint: its absence means another model.
        const string key = "decoder.up_blocks.0.upsamplers.0.time_conv.weight";
        using var source = RoundedSource(71);
        using var scope = NewDisposeScope();
        string folder = QwenImageVaeFolder.Write(_root, source.Config, QwenImageVaeTestModels.StateOf(source), ScalarType.BFloat16, omit: [key]);
        using var model = new QwenImageAutoencoder(source.Config);

        var error = Assert.Throws<InvalidDataException>(() => Load(model, folder));

        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The released architecture on the meta device (no memory): its keys and shapes by name.</summary>
    static Dictionary<string, long[]> QwenImageShapes()
    {
        using var model = new QwenImageAutoencoder(QwenImageAutoencoderConfig.QwenImage, ScalarType.BFloat16, new Device(DeviceType.META));
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
    }

    [Fact]
    public void TheQwenImageConfigHasTheCheckpointsKeysAndShapes()
    {
        // Read off autoencoder_kl_qwenimage.py for base_dim 96, z_dim 16, dim_mult [1, 2, 4, 4], two resnets, temperal
        // downsample [false, true, true]; the time_conv and resample shapes also appear in public key dumps of the file.
        var shapes = QwenImageShapes();
        var expected = new Dictionary<string, long[]>
        {
            ["encoder.conv_in.weight"] = [96, 3, 3, 3, 3],
            ["encoder.down_blocks.0.norm1.gamma"] = [96, 1, 1, 1],
            ["encoder.down_blocks.2.resample.1.weight"] = [96, 96, 3, 3],
            ["encoder.down_blocks.3.conv_shortcut.weight"] = [192, 96, 1, 1, 1],
            ["encoder.down_blocks.5.time_conv.weight"] = [192, 192, 3, 1, 1],
            ["encoder.down_blocks.8.time_conv.weight"] = [384, 384, 3, 1, 1],
            ["encoder.down_blocks.10.conv2.weight"] = [384, 384, 3, 3, 3],
            ["encoder.mid_block.attentions.0.norm.gamma"] = [384, 1, 1],
            ["encoder.mid_block.attentions.0.to_qkv.weight"] = [1152, 384, 1, 1],
            ["encoder.mid_block.attentions.0.proj.weight"] = [384, 384, 1, 1],
            ["encoder.norm_out.gamma"] = [384, 1, 1, 1],
            ["encoder.conv_out.weight"] = [32, 384, 3, 3, 3],
            ["quant_conv.weight"] = [32, 32, 1, 1, 1],
            ["post_quant_conv.weight"] = [16, 16, 1, 1, 1],
            ["decoder.conv_in.weight"] = [384, 16, 3, 3, 3],
            ["decoder.mid_block.resnets.1.conv2.bias"] = [384],
            ["decoder.up_blocks.0.resnets.2.conv1.weight"] = [384, 384, 3, 3, 3],
            ["decoder.up_blocks.0.upsamplers.0.resample.1.weight"] = [192, 384, 3, 3],
            ["decoder.up_blocks.0.upsamplers.0.time_conv.weight"] = [768, 384, 3, 1, 1],
            ["decoder.up_blocks.1.resnets.0.conv_shortcut.weight"] = [384, 192, 1, 1, 1],
            ["decoder.up_blocks.1.upsamplers.0.time_conv.weight"] = [768, 384, 3, 1, 1],
            ["decoder.up_blocks.2.resnets.0.conv1.weight"] = [192, 192, 3, 3, 3],
            ["decoder.up_blocks.2.upsamplers.0.resample.1.weight"] = [96, 192, 3, 3],
            ["decoder.up_blocks.3.resnets.0.conv1.weight"] = [96, 96, 3, 3, 3],
            ["decoder.up_blocks.3.resnets.2.conv2.weight"] = [96, 96, 3, 3, 3],
            ["decoder.norm_out.gamma"] = [96, 1, 1, 1],
            ["decoder.conv_out.weight"] = [3, 96, 3, 3, 3],
        };
        foreach (var (key, shape) in expected)
        {
            Assert.True(shapes.TryGetValue(key, out var actual), $"the model lacks '{key}'");
            Assert.Equal(shape, actual);
        }
        // Eleven flat encoder blocks (2 + resample, 2 + resample, 2 + resample, 2), four up blocks of three resnets; time
        // convolutions exactly where temperal_downsample (and its reverse) asks; no bias on any norm.
        // 126,892,531 parameters, counted from the architecture outside this code base; stored in bfloat16 that is
        // 253,785,062 bytes, and the public single-file copy of this VAE (ComfyUI's qwen_image_vae.safetensors) is
        // 253,806,246 bytes: the same tensors in bfloat16 plus a 21 KB header.
        Assert.Equal(126_892_531L, shapes.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b)));
        Assert.Equal(11, shapes.Keys.Where(k => k.StartsWith("encoder.down_blocks.", StringComparison.Ordinal)).Select(k => k.Split('.')[2]).Distinct().Count());
        Assert.Equal(
            ["decoder.up_blocks.0.upsamplers.0.time_conv.weight", "decoder.up_blocks.1.upsamplers.0.time_conv.weight", "encoder.down_blocks.5.time_conv.weight", "encoder.down_blocks.8.time_conv.weight"],
            shapes.Keys.Where(k => k.EndsWith("time_conv.weight", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.False(shapes.ContainsKey("decoder.up_blocks.3.upsamplers.0.resample.1.weight"));
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("norm", StringComparison.Ordinal) && !k.EndsWith(".gamma", StringComparison.Ordinal));
        Assert.All(shapes.Where(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal) && !kv.Key.Contains("resample.1", StringComparison.Ordinal)
            && !kv.Key.Contains("to_qkv", StringComparison.Ordinal) && !kv.Key.Contains(".proj.", StringComparison.Ordinal)), kv => Assert.Equal(5, kv.Value.Length));
    }

    [Fact]
    public void MapIsTheIdentityOnEveryKeyOfTheQwenImageModel()
    {
        foreach (var (key, shape) in QwenImageShapes())
        {
            var placements = QwenImageAutoencoderCheckpointNames.Map(key, shape);
            Assert.NotNull(placements);
            Assert.Equal([new TensorPlacement(key)], placements);
        }
    }

    [Theory]
    [InlineData("encoder.conv_in.scale")]
    [InlineData("vae.encoder.conv_in.weight")]
    [InlineData("encoder.downsamples.0.residual.0.gamma")] // the original Wan layout (ComfyUI's file)
    [InlineData("decoder.up_blocks.0.upsamplers.1.resample.1.weight")]
    [InlineData("decoder.up_blocks.0.resample.1.weight")]
    [InlineData("encoder.down_blocks.0.norm1.bias")]
    [InlineData("decoder.mid_block.attentions.0.to_out.0.weight")]
    [InlineData("encoder.num_batches_tracked")]
    public void MapRefusesKeysOutsideTheArchitecture(string key) =>
        Assert.Null(QwenImageAutoencoderCheckpointNames.Map(key, [1]));
}
