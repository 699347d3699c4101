using Glance.Engine.Lora;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

/// <summary>An adapter's pieces moved to the host and back (CPU to CPU here: the copies and the books, not the transfer).</summary>
public class LoraLinearResidencyTests
{
    static LoraLinear LayerWithAdapter()
    {
        var layer = new LoraLinear(8, 12) { Routing = new AdapterRouting(), CacheMergedWeights = true };
        layer.AddPiece("style", new LoraPiece("q", randn(4, 8), randn(6, 4), RowOffset: 0, Alpha: 8, Scale: 2));
        layer.AddPiece("style", new LoraPiece("v", randn(4, 8), randn(6, 4), RowOffset: 6, Alpha: 8, Scale: 2));
        return layer;
    }

    static Tensor Forward(LoraLinear layer, Tensor x)
    {
        using (layer.Routing!.Route(["style", null], CPU)) return layer.forward(x);
    }

    [Fact]
    public void AnOffloadedThenLoadedAdapterGivesTheSameOutputAndDropsItsMergedWeight()
    {
        using var layer = LayerWithAdapter();
        using var x = randn(2, 3, 8);
        using var mode = inference_mode();
        using var before = Forward(layer, x);
        Assert.True(layer.HasMergedWeight("style"));
        var devicePieces = layer.PiecesOf("style").ToArray();

        layer.OffloadAdapter("style", pin: false);

        Assert.True(layer.IsOffloaded("style"));
        Assert.False(layer.HasMergedWeight("style"));
        Assert.All(devicePieces, p => Assert.True(p.Down.IsInvalid, "the device copy should be freed"));

        layer.LoadAdapter("style", nonBlocking: false);
        using var after = Forward(layer, x);

        Assert.False(layer.IsOffloaded("style"));
        Assert.Equal(before.data<float>().ToArray(), after.data<float>().ToArray());
        Assert.Equal([0L, 6L], layer.PiecesOf("style").Select(p => p.RowOffset));
    }

    [Fact]
    public void AnAdapterCanBeRemovedWhetherOffloadedOrLoadedAgain()
    {
        using var layer = LayerWithAdapter();
        layer.OffloadAdapter("style", pin: false);
        var hostPieces = layer.PiecesOf("style").ToArray();

        layer.RemoveAdapter("style");

        Assert.Empty(layer.AdapterNames);
        Assert.False(layer.IsOffloaded("style"));
        Assert.All(hostPieces, p => Assert.True(p.Up.IsInvalid, "the host copy should be freed"));

        using var again = LayerWithAdapter();
        again.OffloadAdapter("style", pin: false);
        var kept = again.PiecesOf("style").ToArray();
        again.LoadAdapter("style", nonBlocking: false);
        again.RemoveAdapter("style");
        Assert.All(kept, p => Assert.True(p.Down.IsInvalid, "the kept host copy should be freed with the adapter"));
    }

    [Fact]
    public void ATrainedAdapterCannotBeOffloaded()
    {
        using var layer = new LoraLinear(8, 6);
        using var down = randn(2, 8);
        layer.AddPiece("training", new LoraPiece("q", down.requires_grad_(true), zeros(6, 2), RowOffset: 0, Alpha: 2, Scale: 1));

        var error = Assert.Throws<InvalidOperationException>(() => layer.OffloadAdapter("training", pin: false));

        Assert.Contains("'training'", error.Message, StringComparison.Ordinal);
        Assert.False(layer.IsOffloaded("training"));
    }
}
