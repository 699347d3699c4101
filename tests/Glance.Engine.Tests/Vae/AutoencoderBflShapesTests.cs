using Glance.Engine.Models.Flux;

namespace Glance.Engine.Tests.Vae;

public class AutoencoderBflShapesTests
{
    static Dictionary<string, long[]> ShapesOf(AutoencoderConfig config)
    {
        using var model = new AutoEncoder(config);
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
    }

    static void AssertSameArchitecture(AutoencoderConfig expected, AutoencoderConfig actual)
    {
        Assert.Equal(expected.InChannels, actual.InChannels);
        Assert.Equal(expected.Ch, actual.Ch);
        Assert.Equal(expected.ChMult, actual.ChMult);
        Assert.Equal(expected.NumResBlocks, actual.NumResBlocks);
        Assert.Equal(expected.ZChannels, actual.ZChannels);
        Assert.Equal(expected.OutCh, actual.OutCh);
    }

    [Fact]
    public void TinyAutoencoderShapesGiveBackItsArchitecture()
    {
        var config = VaeTestModels.TwoLevels with { InChannels = 4, OutCh = 5, ZChannels = 6 };
        var derived = AutoencoderConfig.FromBflShapes(ShapesOf(config), "tiny-ae.safetensors");
        AssertSameArchitecture(config, derived);
    }

    [Fact]
    public void FluxShapedAutoencoderGivesFluxParametersWithBflScaleAndShift()
    {
        // FLUX's level structure at a quarter of the width (ch 32), so the model builds in milliseconds.
        var config = AutoencoderConfig.Flux with { Ch = 32 };
        var derived = AutoencoderConfig.FromBflShapes(ShapesOf(config), "ae.safetensors");

        AssertSameArchitecture(config, derived);
        Assert.Equal([1, 2, 4, 4], derived.ChMult);
        Assert.Equal(2, derived.NumResBlocks);
        Assert.Equal(16, derived.ZChannels);
        // Not in the file: BFL's flux-dev AutoEncoderParams.
        Assert.Equal(0.3611, derived.ScaleFactor);
        Assert.Equal(0.1159, derived.ShiftFactor);
        Assert.Equal(256, derived.Resolution);
    }

    [Fact]
    public void MissingTensorIsNamedWithTheFile()
    {
        var shapes = ShapesOf(VaeTestModels.TwoLevels);
        shapes.Remove("decoder.up.1.block.2.conv2.bias");
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromBflShapes(shapes, "ae.safetensors"));
        Assert.Contains("'decoder.up.1.block.2.conv2.bias'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'ae.safetensors'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExtraTensorIsNamedWithTheFile()
    {
        var shapes = ShapesOf(VaeTestModels.TwoLevels);
        shapes["quant_conv.weight"] = [8, 8, 1, 1];
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromBflShapes(shapes, "ae.safetensors"));
        Assert.Contains("Unexpected key 'quant_conv.weight'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeThatDisagreesWithTheDerivedConfigIsNamed()
    {
        var shapes = ShapesOf(VaeTestModels.TwoLevels);
        shapes["decoder.mid.attn_1.q.weight"] = [64, 64]; // a diffusers-style Linear in a BFL file
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromBflShapes(shapes, "ae.safetensors"));
        Assert.Contains("'decoder.mid.attn_1.q.weight'", error.Message, StringComparison.Ordinal);
        Assert.Contains("[64, 64, 1, 1]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LevelWidthThatIsNotAMultipleOfChIsRefused()
    {
        var shapes = ShapesOf(VaeTestModels.TwoLevels);
        shapes["encoder.down.1.block.0.conv1.weight"] = [48, 32, 3, 3];
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromBflShapes(shapes, "ae.safetensors"));
        Assert.Contains("'encoder.down.1.block.0.conv1.weight'", error.Message, StringComparison.Ordinal);
        Assert.Contains("multiple of ch = 32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DiffusersFileIsNotMistakenForABflOne()
    {
        using var model = new AutoEncoder(VaeTestModels.TwoLevels);
        var state = VaeTestModels.StateOf(model);
        var diffusers = AutoencoderCheckpointNames.ToDiffusers(state, VaeTestModels.TwoLevels);
        var shapes = diffusers.ToDictionary(d => d.Key, d => d.Value.shape, StringComparer.Ordinal);
        foreach (var t in diffusers.Values) t.Dispose();
        foreach (var t in state.Values) t.Dispose();

        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromBflShapes(shapes, "diffusion_pytorch_model.safetensors"));
        Assert.Contains("'encoder.down.0.block.0.conv1.weight'", error.Message, StringComparison.Ordinal);
    }
}
