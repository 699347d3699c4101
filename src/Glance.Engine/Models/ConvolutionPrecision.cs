using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models;

/// <summary>
/// Runs the autoencoders' convolutions, sending the ones that libtorch's CPU bfloat16 kernel gets wrong through
/// float32. On CPUs with native bfloat16 (AVX512-BF16; measured on an AMD EPYC with libtorch 2.10) a bfloat16
/// convolution with a kernel larger than 1x1 and an output channel count that is not a multiple of 16 returns
/// wrong values in its last, partial block of 16 channels: 20-60% relative error where bfloat16 rounding accounts
/// for 0.14% (pytorch/pytorch#163347 reports the same class of error). The RGB output layer (3 channels) is such
/// a convolution, so every bfloat16 image on those CPUs was off by about 9 levels of 255 on average. 1x1
/// convolutions, linear layers and channel counts that are multiples of 16 are exact to one rounding on the same
/// CPU, so only these layers, small in every model, pay for float32.
/// </summary>
public static class ConvolutionPrecision
{
    const long ChannelBlock = 16;

    /// <summary>Whether this convolution would hit the faulty CPU kernel for this input.</summary>
    public static bool NeedsFloat32(Conv2d convolution, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(convolution);
        return NeedsFloat32(convolution.weight, input);
    }

    /// <summary><see cref="NeedsFloat32(Conv2d, Tensor)"/> for a 2-D convolution given by its weight [out, in, kh, kw].</summary>
    public static bool NeedsFloat32(Tensor weight, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(input);
        bool reducedPrecision = input.dtype is ScalarType.BFloat16 or ScalarType.Float16;
        bool spatialKernel = weight.shape.Skip(2).Any(k => k > 1);
        return reducedPrecision && input.device_type == DeviceType.CPU && spatialKernel && weight.shape[0] % ChannelBlock != 0;
    }

    /// <summary>The convolution's forward, computed in float32 and rounded back to the input's dtype where <see cref="NeedsFloat32"/>.</summary>
    public static Tensor Forward(Conv2d convolution, Tensor input)
    {
        if (!NeedsFloat32(convolution, input)) return convolution.forward(input);
        using var scope = NewDisposeScope();
        var output = nn.functional.conv2d(
            input.to(ScalarType.Float32),
            convolution.weight.to(ScalarType.Float32),
            convolution.bias?.to(ScalarType.Float32),
            convolution.stride,
            convolution.padding,
            convolution.dilation,
            convolution.groups);
        return output.to(input.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// nn.functional.conv2d with this rule applied, for layers that hold their 2-D weight as a view of a larger tensor
    /// (the Qwen-Image autoencoder's causal 3-D convolutions applied to one frame).
    /// </summary>
    public static Tensor Forward(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (!NeedsFloat32(weight, input)) return nn.functional.conv2d(input, weight, bias, stride, padding);
        using var scope = NewDisposeScope();
        var output = nn.functional.conv2d(input.to(ScalarType.Float32), weight.to(ScalarType.Float32), bias?.to(ScalarType.Float32), stride, padding);
        return output.to(input.dtype).MoveToOuterDisposeScope();
    }
}
