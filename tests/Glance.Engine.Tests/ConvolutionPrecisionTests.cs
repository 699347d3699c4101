using Glance.Engine.Models;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

/// <summary>
/// Which convolutions take the float32 path, pinned on every machine: the bfloat16 fault it avoids shows only on CPUs
/// with native bfloat16, so the numerical tests alone would not notice the path being switched off elsewhere.
/// </summary>
public class ConvolutionPrecisionTests
{
    [Theory]
    [InlineData(3, 3, ScalarType.BFloat16, true)]
    [InlineData(3, 20, ScalarType.BFloat16, true)]
    [InlineData(3, 3, ScalarType.Float16, true)]
    [InlineData(3, 16, ScalarType.BFloat16, false)]
    [InlineData(3, 32, ScalarType.BFloat16, false)]
    [InlineData(1, 3, ScalarType.BFloat16, false)]
    [InlineData(3, 3, ScalarType.Float32, false)]
    public void SpatialConvolutionsWithAPartialBlockOf16OutputsComputeInFloat32OnTheCpu(int kernel, int outChannels, ScalarType dtype, bool computedInFloat32)
    {
        using var conv = nn.Conv2d(8, outChannels, kernel, padding: kernel / 2, dtype: dtype);
        using var input = zeros([1, 8, 4, 4], dtype: dtype);
        Assert.Equal(computedInFloat32, ConvolutionPrecision.NeedsFloat32(conv, input));
        using var output = ConvolutionPrecision.Forward(conv, input);
        Assert.Equal(dtype, output.dtype);
        Assert.Equal([1L, outChannels, 4, 4], output.shape);
        // The same rule for a weight held as a tensor (the Qwen-Image autoencoder's 3-D kernels applied to one frame).
        Assert.Equal(computedInFloat32, ConvolutionPrecision.NeedsFloat32(conv.weight, input));
        using var functional = ConvolutionPrecision.Forward(input, conv.weight, conv.bias, [1, 1], [kernel / 2, kernel / 2]);
        Assert.Equal(dtype, functional.dtype);
        Assert.True(functional.equal(output).all().item<bool>(), "the functional form computes what the module form does");
    }
}
