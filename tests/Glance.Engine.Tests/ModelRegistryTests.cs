using Glance.Engine.Models;
using Glance.Engine.Models.Flux;

namespace Glance.Engine.Tests;

public class ModelRegistryTests
{
    static readonly int[] ReferenceAxes = [16, 56, 56];

    [Fact]
    public void Flux1DevHasReferenceShapeAndGuidanceEmbedder()
    {
        var dev = ModelRegistry.Get("flux1-dev");
        Assert.Equal((64, 768, 4096, 3072, 24, 19, 38), (dev.InChannels, dev.VecInDim, dev.ContextInDim, dev.HiddenSize, dev.NumHeads, dev.Depth, dev.DepthSingleBlocks));
        Assert.Equal(ReferenceAxes, dev.AxesDim);
        Assert.True(dev.GuidanceEmbed);
        Assert.False(ModelRegistry.Get("flux1-schnell").GuidanceEmbed);
    }

    [Fact]
    public void EveryPresetValidates()
    {
        foreach (string name in ModelRegistry.Names) ModelRegistry.Get(name).Validate();
    }

    [Fact]
    public void UnknownNameListsKnownNames()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => ModelRegistry.Get("flux3"));
        Assert.Contains("flux3", error.Message, StringComparison.Ordinal);
        Assert.Contains("flux1-dev", error.Message, StringComparison.Ordinal);
        Assert.Contains("tiny", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HiddenSizeNotDivisibleByHeadsIsRejectedNamingBoth()
    {
        var config = ModelRegistry.Get("tiny") with { HiddenSize = 30, NumHeads = 4 };
        var error = Assert.Throws<ArgumentException>(() => config.Validate());
        Assert.Contains("30", error.Message, StringComparison.Ordinal);
        Assert.Contains("4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AxesNotAddingUpToHeadDimAreRejectedNamingBoth()
    {
        var config = ModelRegistry.Get("tiny") with { AxesDim = [4, 4, 4] };
        var error = Assert.Throws<ArgumentException>(() => config.Validate());
        Assert.Contains("12", error.Message, StringComparison.Ordinal);
        Assert.Contains("16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OddAxisIsRejected()
    {
        var config = ModelRegistry.Get("tiny") with { AxesDim = [5, 5, 6] };
        var error = Assert.Throws<ArgumentException>(() => config.Validate());
        Assert.Contains("AxesDim[0] is 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PresetCopiesDoNotShareAxes()
    {
        FluxConfig first = ModelRegistry.Get("tiny");
        first.AxesDim[0] = 100;
        Assert.Equal(4, ModelRegistry.Get("tiny").AxesDim[0]);
    }
}
