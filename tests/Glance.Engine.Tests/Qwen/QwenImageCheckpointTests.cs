using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>Loading Qwen-Image's transformer/ folder (diffusers names, bfloat16 shards with an index).</summary>
public sealed class QwenImageCheckpointTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("glance-qwen-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A seeded model with its weights rounded to bfloat16, as the released files hold them.</summary>
    static QwenImageTransformer Source()
    {
        var model = QwenTinyModel.Build(seed: 99);
        using var noGrad = no_grad();
        foreach (var parameter in model.parameters())
        {
            using var rounded = parameter.to(ScalarType.BFloat16).to(ScalarType.Float32);
            parameter.copy_(rounded);
        }
        return model;
    }

    /// <summary>Writes the model's state dict as transformer/diffusion_pytorch_model-0000i-of-00003.safetensors + index, in bfloat16.</summary>
    string WriteTransformerFolder(QwenImageTransformer model, params (string Key, Tensor Value)[] extra)
    {
        string folder = Path.Combine(_folder, "transformer");
        var stored = model.state_dict()
            .Select(kv => (kv.Key, kv.Value))
            .Concat(extra)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(ScalarType.BFloat16).contiguous(), StringComparer.Ordinal);
        var specs = stored.Select(kv => new TensorSpec(kv.Key, kv.Value.dtype, kv.Value.shape)).ToList();
        ShardedSafetensorsWriter.Write(folder, "diffusion_pytorch_model", specs, 3, (spec, destination) => stored[spec.Name].bytes.CopyTo(destination));
        return folder;
    }

    [Fact]
    public void ShardedBfloat16TransformerFolderLoadsAndGivesTheSameOutput()
    {
        using var scope = NewDisposeScope();
        using var source = Source();
        string folder = WriteTransformerFolder(source);
        Assert.True(File.Exists(Path.Combine(folder, "diffusion_pytorch_model-00002-of-00003.safetensors")));
        Assert.True(File.Exists(Path.Combine(folder, "diffusion_pytorch_model.safetensors.index.json")));

        using var loaded = QwenTinyModel.Build(seed: 5);
        PlacedCheckpointLoader.Load(loaded, folder, QwenImageCheckpointNames.Map, QwenImageCheckpointNames.Format);

        using var _ = no_grad();
        var (img, txt) = QwenTinyModel.Inputs(2, 3, 4, 5);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, [2, 5]);
        var sigmas = tensor(new[] { 0.5f, 0.125f });
        var expected = source.Forward(img, txt, mask, sigmas, 3, 4);
        var actual = loaded.Forward(img, txt, mask, sigmas, 3, 4);
        Assert.True(actual.eq(expected).all().item<bool>());
    }

    [Fact]
    public void Bfloat16ModelReadsTheShardsBitForBit()
    {
        using var scope = NewDisposeScope();
        using var source = Source();
        string folder = WriteTransformerFolder(source);
        using var loaded = new QwenImageTransformer(QwenTinyModel.Config, ScalarType.BFloat16);
        PlacedCheckpointLoader.Load(loaded, folder, QwenImageCheckpointNames.Map, QwenImageCheckpointNames.Format);
        var expected = source.state_dict();
        foreach (var (key, value) in loaded.state_dict())
            Assert.True(value.to(ScalarType.Float32).eq(expected[key]).all().item<bool>(), key);
    }

    [Fact]
    public void AnUnknownKeyFailsNamingTheKeyAndItsFile()
    {
        using var scope = NewDisposeScope();
        using var source = Source();
        // A fused projection that diffusers' Qwen-Image does not have; it sorts into the first shard.
        string folder = WriteTransformerFolder(source, ("img_in.qkv.weight", zeros(3, 3)));
        using var loaded = QwenTinyModel.Build(seed: 5);
        var error = Assert.Throws<InvalidDataException>(() =>
            PlacedCheckpointLoader.Load(loaded, folder, QwenImageCheckpointNames.Map, QwenImageCheckpointNames.Format));
        Assert.Contains("'img_in.qkv.weight' (in 'diffusion_pytorch_model-00001-of-00003.safetensors')", error.Message, StringComparison.Ordinal);
        Assert.Contains(QwenImageCheckpointNames.Format, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingBlockFailsNamingItsParameters()
    {
        using var scope = NewDisposeScope();
        using var source = Source();
        string folder = WriteTransformerFolder(source);
        using var deeper = new QwenImageTransformer(QwenTinyModel.Config with { NumLayers = 3 });
        var error = Assert.Throws<InvalidDataException>(() =>
            PlacedCheckpointLoader.Load(deeper, folder, QwenImageCheckpointNames.Map, QwenImageCheckpointNames.Format));
        Assert.Contains("'transformer_blocks.2.attn.to_q.weight'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MapPlacesEveryModelKeyOntoItselfAndNothingElse()
    {
        using var model = QwenTinyModel.Build();
        foreach (var (key, value) in model.state_dict())
        {
            var placements = QwenImageCheckpointNames.Map(key, value.shape);
            Assert.NotNull(placements);
            Assert.Equal(new TensorPlacement(key), Assert.Single(placements));
        }
        foreach (string key in new[]
        {
            "pos_embed.pos_freqs", "transformer_blocks.0.img_mod.0.weight", "transformer_blocks.0.attn.to_out.1.weight",
            "transformer_blocks.0.attn.norm_q.bias", "txt_norm.bias", "transformer.img_in.weight", "model.diffusion_model.img_in.weight",
            "transformer_blocks.x.attn.to_q.weight", "time_text_embed.addition_t_embedding.weight", "img_in.weight.extra",
        })
            Assert.Null(QwenImageCheckpointNames.Map(key, [1]));
    }
}
