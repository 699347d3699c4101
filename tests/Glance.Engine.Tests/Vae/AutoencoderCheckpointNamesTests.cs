using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Flux;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Vae;

public class AutoencoderCheckpointNamesTests
{
    /// <summary>
    /// Copies diffusers-named tensors into a module by the placements alone, the way a loader would, and returns the
    /// target keys in the order they were filled. Fails on a null or multi-part placement, a reused target, or a size mismatch.
    /// </summary>
    static List<string> ApplyPlacements(IReadOnlyDictionary<string, Tensor> source, AutoencoderCheckpointNames names, AutoEncoder target)
    {
        var state = target.state_dict();
        var filled = new List<string>();
        using var noGrad = no_grad();
        foreach (var (key, tensor) in source)
        {
            var placements = names.MapDiffusersKey(key, tensor.shape);
            Assert.True(placements is not null, $"'{key}' is unmapped");
            var placement = Assert.Single(placements);
            Assert.Equal(0, placement.RowOffset);
            var destination = state[placement.TargetKey];
            if (placement.Reshape)
            {
                Assert.Equal(destination.numel(), tensor.numel());
                using var reshaped = tensor.reshape(destination.shape);
                destination.copy_(reshaped);
            }
            else
            {
                Assert.Equal(destination.shape, tensor.shape);
                destination.copy_(tensor);
            }
            filled.Add(placement.TargetKey);
        }
        return filled;
    }

    [Fact]
    public void DiffusersRoundTripFillsEveryTensorOnceAndDecodesIdentically()
    {
        var config = VaeTestModels.TwoLevels;
        using var original = VaeTestModels.Seeded(config, seed: 5);
        using var restored = new AutoEncoder(config);
        using var scope = NewDisposeScope();
        var names = new AutoencoderCheckpointNames(config);

        var diffusers = AutoencoderCheckpointNames.ToDiffusers(VaeTestModels.StateOf(original), config);
        var filled = ApplyPlacements(diffusers, names, restored);

        Assert.Equal(filled.Count, filled.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(restored.state_dict().Keys.Order(StringComparer.Ordinal), filled.Order(StringComparer.Ordinal));
        using var noGrad = no_grad();
        using var generator = new Generator(3, CPU);
        var latent = randn([2, config.ZChannels, 4, 4], generator: generator);
        Assert.True(original.decoder.forward(latent).eq(restored.decoder.forward(latent)).all().item<bool>());
        var image = rand([1, 3, 8, 8], generator: generator);
        Assert.True(original.encoder.forward(image).eq(restored.encoder.forward(image)).all().item<bool>());
    }

    static bool DecodersAgree(AutoEncoder a, AutoEncoder b, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed, CPU);
        var latent = randn([1, a.Config.ZChannels, 4, 4], generator: generator);
        return a.Decode(latent).eq(b.Decode(latent)).all().item<bool>();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WrittenDiffusersFileLoadsThroughThePlacementLoader(bool legacyAttentionNames)
    {
        // The fixture builder's path: ToDiffusers, write vae/diffusion_pytorch_model.safetensors, load it as a snapshot would.
        var config = AutoencoderConfig.Tiny;
        var folder = Directory.CreateTempSubdirectory("glance-vae-names-");
        try
        {
            using var original = VaeTestModels.Seeded(config, seed: 8);
            using var restored = new AutoEncoder(config);
            string path = Path.Combine(folder.FullName, "diffusion_pytorch_model.safetensors");
            using (var scope = NewDisposeScope())
            {
                var diffusers = AutoencoderCheckpointNames.ToDiffusers(VaeTestModels.StateOf(original), config);
                string Named(string key) => legacyAttentionNames
                    ? key.Replace(".to_q.", ".query.", StringComparison.Ordinal).Replace(".to_k.", ".key.", StringComparison.Ordinal)
                        .Replace(".to_v.", ".value.", StringComparison.Ordinal).Replace(".to_out.0.", ".proj_attn.", StringComparison.Ordinal)
                    : key;
                SafetensorsFile.Write(path, [.. diffusers.Select(d => KeyValuePair.Create(Named(d.Key), d.Value))]);
            }
            var header = SafetensorsFile.ReadHeader(path);
            string value = legacyAttentionNames ? "decoder.mid_block.attentions.0.value.weight" : "decoder.mid_block.attentions.0.to_v.weight";
            Assert.Equal([64L, 64], header.Entries.Single(e => e.Name == value).Shape);

            PlacedCheckpointLoader.Load(restored, path, AutoencoderCheckpointNames.DiffusersPlacements(config), "diffusers AutoencoderKL");

            Assert.True(DecodersAgree(original, restored, seed: 9));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void WrittenBflFileGivesItsConfigAndLoadsUnderItsOwnKeys()
    {
        var config = VaeTestModels.TwoLevels;
        var folder = Directory.CreateTempSubdirectory("glance-vae-bfl-");
        try
        {
            using var original = VaeTestModels.Seeded(config, seed: 12);
            string path = Path.Combine(folder.FullName, "ae.safetensors");
            using (var scope = NewDisposeScope())
                SafetensorsFile.Write(path, [.. VaeTestModels.StateOf(original)]);

            var shapes = SafetensorsFile.ReadHeader(path).Entries.ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);
            var derived = AutoencoderConfig.FromBflShapes(shapes, path);
            using var restored = new AutoEncoder(derived with { ScaleFactor = config.ScaleFactor, ShiftFactor = config.ShiftFactor });
            PlacedCheckpointLoader.Load(restored, path, new AutoencoderCheckpointNames(derived).MapBflKey, "BFL autoencoder");

            Assert.True(DecodersAgree(original, restored, seed: 13));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void NameTableMatchesTheModuleStateDictForFluxAndTinyShapes()
    {
        foreach (var config in new[] { AutoencoderConfig.Flux with { Ch = 32 }, AutoencoderConfig.Tiny, VaeTestModels.TwoLevels })
        {
            using var model = new AutoEncoder(config);
            var expected = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
            var names = new AutoencoderCheckpointNames(config);

            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), names.Tensors.Select(t => t.BflKey).Order(StringComparer.Ordinal));
            foreach (var name in names.Tensors) Assert.Equal(expected[name.BflKey], name.BflShape);
            Assert.Equal(names.Tensors.Count, names.Tensors.Select(t => t.DiffusersKey).Distinct(StringComparer.Ordinal).Count());
        }
    }

    public static TheoryData<string, long[], string, bool> FluxDiffusersNames => new()
    {
        // diffusers key and shape in FLUX.1's vae/diffusion_pytorch_model.safetensors, our (BFL ae.safetensors) key, reshape
        { "decoder.up_blocks.0.upsamplers.0.conv.weight", [512, 512, 3, 3], "decoder.up.3.upsample.conv.weight", false },
        { "decoder.up_blocks.2.upsamplers.0.conv.bias", [256], "decoder.up.1.upsample.conv.bias", false },
        { "decoder.up_blocks.3.resnets.0.conv_shortcut.weight", [128, 256, 1, 1], "decoder.up.0.block.0.nin_shortcut.weight", false },
        { "decoder.up_blocks.1.resnets.2.norm2.weight", [512], "decoder.up.2.block.2.norm2.weight", false },
        { "encoder.down_blocks.1.resnets.0.conv_shortcut.bias", [256], "encoder.down.1.block.0.nin_shortcut.bias", false },
        { "encoder.down_blocks.2.downsamplers.0.conv.weight", [512, 512, 3, 3], "encoder.down.2.downsample.conv.weight", false },
        { "encoder.mid_block.resnets.0.conv1.weight", [512, 512, 3, 3], "encoder.mid.block_1.conv1.weight", false },
        { "decoder.mid_block.resnets.1.norm1.bias", [512], "decoder.mid.block_2.norm1.bias", false },
        { "encoder.mid_block.attentions.0.group_norm.weight", [512], "encoder.mid.attn_1.norm.weight", false },
        { "encoder.mid_block.attentions.0.to_q.weight", [512, 512], "encoder.mid.attn_1.q.weight", true },
        { "decoder.mid_block.attentions.0.to_k.bias", [512], "decoder.mid.attn_1.k.bias", false },
        { "decoder.mid_block.attentions.0.to_v.weight", [512, 512], "decoder.mid.attn_1.v.weight", true },
        { "decoder.mid_block.attentions.0.to_out.0.weight", [512, 512], "decoder.mid.attn_1.proj_out.weight", true },
        { "encoder.conv_norm_out.bias", [512], "encoder.norm_out.bias", false },
        { "decoder.conv_norm_out.weight", [128], "decoder.norm_out.weight", false },
        { "encoder.conv_out.weight", [32, 512, 3, 3], "encoder.conv_out.weight", false },
        { "decoder.conv_in.weight", [512, 16, 3, 3], "decoder.conv_in.weight", false },
        // names of diffusers' older attention block
        { "encoder.mid_block.attentions.0.query.weight", [512, 512], "encoder.mid.attn_1.q.weight", true },
        { "encoder.mid_block.attentions.0.key.bias", [512], "encoder.mid.attn_1.k.bias", false },
        { "decoder.mid_block.attentions.0.value.weight", [512, 512], "decoder.mid.attn_1.v.weight", true },
        { "decoder.mid_block.attentions.0.proj_attn.bias", [512], "decoder.mid.attn_1.proj_out.bias", false },
    };

    [Theory]
    [MemberData(nameof(FluxDiffusersNames))]
    public void FluxDiffusersKeyLandsOnItsBflKey(string diffusersKey, long[] shape, string bflKey, bool reshape)
    {
        var names = new AutoencoderCheckpointNames(AutoencoderConfig.Flux);
        var placement = Assert.Single(names.MapDiffusersKey(diffusersKey, shape)!);
        Assert.Equal(new TensorPlacement(bflKey, 0, reshape), placement);
        // The table's diffusers shape is the file's (legacy names share the modern tensors' shapes).
        var name = names.Tensors.Single(t => t.BflKey == bflKey);
        Assert.Equal(shape, name.DiffusersShape);
    }

    [Theory]
    [InlineData("quant_conv.weight")]
    [InlineData("post_quant_conv.bias")]
    [InlineData("decoder.up_blocks.4.resnets.0.conv1.weight")]
    [InlineData("decoder.up_blocks.3.upsamplers.0.conv.weight")]
    [InlineData("encoder.down_blocks.3.downsamplers.0.conv.weight")]
    [InlineData("encoder.down_blocks.0.resnets.2.conv1.weight")]
    [InlineData("encoder.mid_block.attentions.0.to_out.1.weight")]
    [InlineData("encoder.mid.attn_1.q.weight")]
    [InlineData("decoder.up_blocks.0.resnets.0.conv_shortcut.weight")]
    public void KeyOutsideTheDiffusersLayoutIsUnknown(string key)
    {
        var names = new AutoencoderCheckpointNames(AutoencoderConfig.Flux);
        Assert.Null(names.MapDiffusersKey(key, [1]));
    }

    [Fact]
    public void BflKeysMapToThemselvesAndOthersAreUnknown()
    {
        var config = AutoencoderConfig.Flux with { Ch = 32 };
        using var model = new AutoEncoder(config);
        var names = new AutoencoderCheckpointNames(config);
        var state = model.state_dict();
        Assert.Equal(244, state.Count); // the tensor count of FLUX.1's ae.safetensors
        foreach (var (key, tensor) in state)
            Assert.Equal(new TensorPlacement(key), Assert.Single(names.MapBflKey(key, tensor.shape)!));
        Assert.Null(names.MapBflKey("encoder.mid_block.attentions.0.to_q.weight", [128, 128]));
        Assert.Null(names.MapBflKey("decoder.up.4.block.0.conv1.weight", [1]));
    }

    [Fact]
    public void ToDiffusersWritesLinearAttentionProjectionsAndRefusesForeignStateDicts()
    {
        var config = VaeTestModels.TwoLevels;
        using var model = new AutoEncoder(config);
        using var scope = NewDisposeScope();
        var state = VaeTestModels.StateOf(model);

        var diffusers = AutoencoderCheckpointNames.ToDiffusers(state, config);
        Assert.Equal([64L, 64], diffusers["decoder.mid_block.attentions.0.to_out.0.weight"].shape);
        Assert.Equal([32L, 64, 1, 1], diffusers["decoder.up_blocks.1.resnets.0.conv_shortcut.weight"].shape);
        Assert.True(diffusers["decoder.up_blocks.1.resnets.0.conv_shortcut.weight"].eq(state["decoder.up.0.block.0.nin_shortcut.weight"]).all().item<bool>());

        var extra = new Dictionary<string, Tensor>(state, StringComparer.Ordinal) { ["quant_conv.weight"] = zeros(8, 8, 1, 1) };
        Assert.Contains("'quant_conv.weight'", Assert.Throws<ArgumentException>(() => AutoencoderCheckpointNames.ToDiffusers(extra, config)).Message, StringComparison.Ordinal);
        var missing = new Dictionary<string, Tensor>(state, StringComparer.Ordinal);
        missing.Remove("encoder.conv_in.bias");
        Assert.Contains("'encoder.conv_in.bias'", Assert.Throws<ArgumentException>(() => AutoencoderCheckpointNames.ToDiffusers(missing, config)).Message, StringComparison.Ordinal);
    }
}
