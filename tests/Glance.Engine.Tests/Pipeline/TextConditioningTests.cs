using Glance.Engine.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Pipeline;

public sealed class TextConditioningTests
{
    static Tensor Context(long tokens, float start) =>
        tensor(Enumerable.Range(0, (int)tokens * 2).Select(i => start + i).ToArray()).reshape(1, tokens, 2);

    static Tensor Pooled(float value) => tensor(new[] { value, value, value }).reshape(1, 3);

    [Fact]
    public void RowsOfOneLengthWithoutMasksConcatenateWithoutAMask()
    {
        using var scope = NewDisposeScope();
        var batch = TextConditioning.Concat([new(Context(3, 0), null), new(Context(3, 100), null)]);

        Assert.Null(batch.Mask);
        Assert.Equal([2L, 3, 2], batch.Context.shape);
    }

    [Fact]
    public void RowsOfDifferentLengthsArePaddedOnTheRightWithZerosAndMasked()
    {
        using var scope = NewDisposeScope();
        var batch = TextConditioning.Concat([new(Context(2, 0), null), new(Context(4, 100), null)]);

        Assert.Equal([2L, 4, 2], batch.Context.shape);
        Assert.Equal([1L, 1, 0, 0, 1, 1, 1, 1], batch.Mask!.data<long>().ToArray());
        Assert.Equal([0f, 1, 2, 3, 0, 0, 0, 0], batch.Context[0].flatten().data<float>().ToArray());
        Assert.True(batch.Context[1].allclose(Context(4, 100)[0], rtol: 0, atol: 0));
    }

    [Fact]
    public void AMaskedRowIsCutToItsOwnTokensAndRejoinsWithoutPadding()
    {
        using var scope = NewDisposeScope();
        var batch = TextConditioning.Concat([new(Context(2, 0), null), new(Context(4, 100), null)]);

        var first = batch.Row(0);
        var second = batch.Row(1);

        Assert.Equal([1L, 2, 2], first.Context.shape);
        Assert.Null(first.Mask);
        Assert.True(first.Context.allclose(Context(2, 0), rtol: 0, atol: 0));
        Assert.Null(TextConditioning.Concat([first, first]).Mask);
        Assert.Equal([1L, 4, 2], second.Context.shape);
    }

    [Fact]
    public void PooledVectorsTravelWithTheirRows()
    {
        using var scope = NewDisposeScope();
        var batch = TextConditioning.Concat([new(Context(2, 0), Pooled(1f)), new(Context(2, 9), Pooled(2f))]);

        Assert.Equal([1f, 1, 1, 2, 2, 2], batch.Pooled!.flatten().data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => TextConditioning.Concat([new(Context(2, 0), Pooled(1f)), new(Context(2, 9), null)]));
    }
}
