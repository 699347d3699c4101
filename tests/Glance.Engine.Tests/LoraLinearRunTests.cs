using Glance.Engine.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public class LoraLinearRunTests
{
    static LoraLinear LayerWithTwoAdapters()
    {
        var layer = new LoraLinear(8, 12) { Routing = new AdapterRouting() };
        layer.AddPiece("slow", new LoraPiece("q", randn(4, 8), randn(6, 4), RowOffset: 0, Alpha: 8, Scale: 2));
        layer.AddPiece("fast", new LoraPiece("all", randn(4, 8), randn(12, 4), RowOffset: 0, Alpha: 4, Scale: 1));
        return layer;
    }

    [Fact]
    public void RoutingSplitsTheBatchIntoRunsOfOneAdapter()
    {
        var routing = new AdapterRouting();
        using (routing.Route(["slow", "slow", null, "fast", "slow"], CPU))
        {
            Assert.Equal(
                [new AdapterRun("slow", 0, 2), new AdapterRun(null, 2, 1), new AdapterRun("fast", 3, 1), new AdapterRun("slow", 4, 1)],
                routing.Runs);
        }
        Assert.Empty(routing.Runs);
    }

    [Fact]
    public void CachedWeightsPerRunEqualTheRoutedLowRankPathOnAMixedBatch()
    {
        using var layer = LayerWithTwoAdapters();
        using var x = randn(5, 3, 8);
        string?[] routes = ["slow", "fast", null, "fast", "slow"];
        using var mode = inference_mode();

        layer.CacheMergedWeights = false;
        Tensor routed;
        using (layer.Routing!.Route(routes, CPU)) routed = layer.forward(x);

        layer.CacheMergedWeights = true;
        Tensor cached;
        using (layer.Routing!.Route(routes, CPU)) cached = layer.forward(x);

        Assert.True(cached.allclose(routed, rtol: 1e-4, atol: 1e-5), $"max difference {(cached - routed).abs().max().item<float>()}");
        using var baseOnly = nn.functional.linear(x.narrow(0, 2, 1), layer.weight, layer.bias);
        Assert.True(cached.narrow(0, 2, 1).allclose(baseOnly, rtol: 1e-5, atol: 1e-6), "the row without an adapter must see the base weight");
        routed.Dispose();
        cached.Dispose();
    }

    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public void MixedBatchRowsMatchTheSameRowsRunWithOneAdapter(int inputDims)
    {
        using var layer = LayerWithTwoAdapters();
        layer.CacheMergedWeights = true;
        using var x = inputDims == 3 ? randn(5, 3, 8) : randn(5, 8);
        string?[] routes = ["slow", "fast", null, "fast", "slow"];
        using var mode = inference_mode();

        Tensor mixed;
        using (layer.Routing!.Route(routes, CPU)) mixed = layer.forward(x);
        Assert.Equal(x.shape[..^1].Append(12L).ToArray(), mixed.shape);

        for (int row = 0; row < routes.Length; row++)
        {
            using var alone = x.narrow(0, row, 1);
            Tensor expected;
            using (layer.Routing!.Route([routes[row]], CPU)) expected = layer.forward(alone);
            using var actual = mixed.narrow(0, row, 1);
            Assert.True(actual.allclose(expected, rtol: 1e-6, atol: 1e-6), $"row {row} ({routes[row] ?? "no adapter"}): max difference {(actual - expected).abs().max().item<float>()}");
            expected.Dispose();
        }
        mixed.Dispose();
    }
}
