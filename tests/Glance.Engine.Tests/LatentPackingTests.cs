using Glance.Engine.Latents;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public class LatentPackingTests
{
    [Fact]
    public void PackThenUnpackRestoresLatents()
    {
        using var scope = NewDisposeScope();
        var latents = randn(2, 16, 6, 10);
        var packed = LatentPacking.Pack(latents);
        Assert.Equal(new long[] { 2, 15, 64 }, packed.shape);
        var unpacked = LatentPacking.Unpack(packed, 6, 10);
        Assert.True(latents.eq(unpacked).all().item<bool>());
    }

    [Fact]
    public void PackedFeatureIndexIsChannelTimesFourPlusPatchOffset()
    {
        using var scope = NewDisposeScope();
        const int channels = 3, height = 4, width = 6;
        var values = new float[channels * height * width];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    values[(c * height + y) * width + x] = c * 1000 + y * 10 + x;
        var latents = tensor(values).reshape(1, channels, height, width);

        var packed = LatentPacking.Pack(latents);

        Assert.Equal(new long[] { 1, 6, 12 }, packed.shape);
        var data = packed.data<float>().ToArray();
        for (int row = 0; row < height / 2; row++)
            for (int col = 0; col < width / 2; col++)
                for (int c = 0; c < channels; c++)
                    for (int ph = 0; ph < 2; ph++)
                        for (int pw = 0; pw < 2; pw++)
                        {
                            int token = row * (width / 2) + col;
                            int feature = c * 4 + ph * 2 + pw;
                            float expected = c * 1000 + (2 * row + ph) * 10 + (2 * col + pw);
                            Assert.Equal(expected, data[token * 12 + feature]);
                        }
    }

    [Fact]
    public void ImageIdsHoldZeroRowAndColumnOfPackedGrid()
    {
        using var ids = LatentPacking.ImageIds(4, 6);
        Assert.Equal(new long[] { 1, 6, 3 }, ids.shape);
        Assert.Equal(ScalarType.Float32, ids.dtype);
        float[] expected = [0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1, 0, 1, 2];
        Assert.Equal(expected, ids.data<float>().ToArray());
    }

    [Fact]
    public void TextIdsAreZeros()
    {
        using var ids = LatentPacking.TextIds(5);
        Assert.Equal(new long[] { 1, 5, 3 }, ids.shape);
        Assert.All(ids.data<float>().ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void OddLatentSizeIsRejected()
    {
        using var latents = zeros(1, 16, 5, 4);
        var error = Assert.Throws<ArgumentException>(() => LatentPacking.Pack(latents));
        Assert.Contains("5x4", error.Message, StringComparison.Ordinal);
    }
}
