using Glance.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

/// <summary>ParameterArena: which tensors move into shared storage, and that the views do not overlap.</summary>
public sealed class ParameterArenaTests
{
    [Fact]
    public void SmallTensorsOfOneDtypeBecomeDisjointViewsOfOneStorage()
    {
        using var a = zeros(3);
        using var b = zeros(2, 5);
        using var c = zeros(1);

        int moved = ParameterArena.Pack([a, b, c]);

        Assert.Equal(3, moved);
        Assert.Equal(new long[] { 0, 16, 32 }, new[] { a.storage_offset(), b.storage_offset(), c.storage_offset() });
        Assert.Equal(new long[] { 2, 5 }, b.shape);
        using (no_grad())
        {
            a.copy_(tensor(new[] { 1f, 1, 1 }));
            b.copy_(tensor(Enumerable.Repeat(2f, 10).ToArray(), [2, 5]));
            c.copy_(tensor(new[] { 3f }));
        }
        Assert.Equal(new[] { 1f, 1, 1 }, a.data<float>().ToArray());
        Assert.All(b.data<float>().ToArray(), v => Assert.Equal(2f, v));
        Assert.Equal(3f, c.item<float>());
    }

    [Fact]
    public void LargeTensorsALoneDtypeAndOtherDevicesStayAsTheyAre()
    {
        using var large = zeros(ParameterArena.SmallTensorBytes / sizeof(float));
        using var alone = zeros(4, dtype: ScalarType.Float64);
        using var small1 = zeros(4);
        using var small2 = zeros(4);

        int moved = ParameterArena.Pack([large, alone, small1, small1, small2]);

        Assert.Equal(2, moved); // small1 listed twice (a tied weight) moves once
        Assert.Equal(0, large.storage_offset());
        Assert.Equal(0, alone.storage_offset());
        Assert.Equal(16, small2.storage_offset());
    }
}
