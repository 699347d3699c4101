using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Qwen;

/// <summary>
/// diffusers' QwenImageCausalConv3d (an nn.Conv3d with weight [out, in, t, kh, kw]) applied to a single frame. It pads
/// 2 * (temporal padding) zero frames in front of the input and none behind, so with a kernel of t = 3 and padding 1
/// (or t = 1 and padding 0) the one output frame sees zeros through every temporal slice but the last, and the image
/// through the last: a 2-D convolution with weight[:, :, t - 1]. The weight keeps its 5-D shape so that checkpoints
/// load unchanged. time_conv layers, whose first-frame output diffusers never computes, hold weights only.
/// </summary>
public sealed class QwenImageCausalConv3d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Parameter weight;
    public readonly Parameter bias;
#pragma warning restore IDE1006, CA1051

    static readonly long[] UnitStride = [1, 1];
    readonly long[] _padding;

    /// <summary>A cubic kernel (1 or 3) with diffusers' padding kernel / 2 on every axis.</summary>
    internal QwenImageCausalConv3d(long inChannels, long outChannels, long kernel, ScalarType? dtype, Device? device)
        : this(inChannels, outChannels, kernel, kernel, dtype, device)
    {
    }

    /// <summary>A kernel of <paramref name="temporalKernel"/> x <paramref name="spatialKernel"/>²; spatial padding spatialKernel / 2.</summary>
    internal QwenImageCausalConv3d(long inChannels, long outChannels, long temporalKernel, long spatialKernel, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageCausalConv3d))
    {
        long fanIn = inChannels * temporalKernel * spatialKernel * spatialKernel;
        double bound = 1 / Math.Sqrt(fanIn);
        // PyTorch's default bound for convolution weights and biases; loading replaces these values.
        weight = new Parameter(UniformWithin(bound, [outChannels, inChannels, temporalKernel, spatialKernel, spatialKernel], dtype, device));
        bias = new Parameter(UniformWithin(bound, [outChannels], dtype, device));
        long pad = spatialKernel / 2;
        _padding = [pad, pad];
        RegisterComponents();
    }

    /// <summary>The one output frame for a one-frame input [B, in, H, W]: [B, out, H, W].</summary>
    public override Tensor forward(Tensor input)
    {
        using var lastSlice = weight.select(2, weight.shape[2] - 1);
        return ConvolutionPrecision.Forward(input, lastSlice, bias, UnitStride, _padding);
    }

    static Tensor UniformWithin(double bound, long[] shape, ScalarType? dtype, Device? device)
    {
        if (ParameterInitialization.IsSkipped) return empty(shape, dtype: dtype, device: device);
        using var unit = rand(shape, dtype: dtype, device: device);
        return unit.Times(2 * bound).Minus(bound);
    }
}

/// <summary>
/// diffusers' QwenImageRMS_norm (bias false): x / max(||x|| over channels, 1e-12) * sqrt(C) * gamma, the
/// normalisation in float32 for bfloat16 and float16 inputs. gamma is [C, 1, 1, 1] in the resnets and output norms
/// (images=False) and [C, 1, 1] in attention (images=True); both broadcast over [B, C, H, W] as [C, 1, 1].
/// </summary>
public sealed class QwenImageRmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Parameter gamma;
#pragma warning restore IDE1006, CA1051

    const double Epsilon = 1e-12;
    readonly double _scale;

    internal QwenImageRmsNorm(long channels, bool imageShaped, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageRmsNorm))
    {
        _scale = Math.Sqrt(channels);
        gamma = new Parameter(ones(imageShaped ? [channels, 1, 1] : [channels, 1, 1, 1], dtype: dtype, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? input.to(ScalarType.Float32) : input;
        var normalized = x.div(x.EuclideanNorm(1, keepDimension: true).ClampedBelow(Epsilon)).to(input.dtype);
        return normalized.Times(_scale).mul(gamma.reshape(-1, 1, 1)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// diffusers' QwenImageResidualBlock: conv_shortcut(x) + conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))), the shortcut a
/// 1x1x1 causal convolution when the width changes, else the identity (dropout is inactive at inference).
/// </summary>
public sealed class QwenImageResidualBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly QwenImageRmsNorm norm1;
    public readonly QwenImageCausalConv3d conv1;
    public readonly QwenImageRmsNorm norm2;
    public readonly QwenImageCausalConv3d conv2;
    public readonly QwenImageCausalConv3d? conv_shortcut;
#pragma warning restore IDE1006, CA1051

    internal QwenImageResidualBlock(long inChannels, long outChannels, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageResidualBlock))
    {
        norm1 = new QwenImageRmsNorm(inChannels, imageShaped: false, dtype, device);
        conv1 = new QwenImageCausalConv3d(inChannels, outChannels, 3, dtype, device);
        norm2 = new QwenImageRmsNorm(outChannels, imageShaped: false, dtype, device);
        conv2 = new QwenImageCausalConv3d(outChannels, outChannels, 3, dtype, device);
        if (inChannels != outChannels) conv_shortcut = new QwenImageCausalConv3d(inChannels, outChannels, 1, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = norm1.forward(input);
        h = QwenImageLayers.Replace(h, nn.functional.silu(h));
        h = QwenImageLayers.Replace(h, conv1.forward(h));
        h = QwenImageLayers.Replace(h, norm2.forward(h));
        h = QwenImageLayers.Replace(h, nn.functional.silu(h));
        h = QwenImageLayers.Replace(h, conv2.forward(h));
        if (conv_shortcut is null) return QwenImageLayers.Replace(h, h.Plus(input));
        using var shortcut = conv_shortcut.forward(input);
        return QwenImageLayers.Replace(h, h.Plus(shortcut));
    }
}

/// <summary>
/// diffusers' QwenImageAttentionBlock: one head over all C channels and the H*W pixels of each frame; RMS norm, a
/// 1x1 to_qkv whose output channels are q, k, v in thirds, softmax(q k^T / sqrt(C)) v, a 1x1 proj, plus the input.
/// </summary>
public sealed class QwenImageAttentionBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly QwenImageRmsNorm norm;
    public readonly Conv2d to_qkv;
    public readonly Conv2d proj;
#pragma warning restore IDE1006, CA1051

    internal QwenImageAttentionBlock(long channels, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageAttentionBlock))
    {
        norm = new QwenImageRmsNorm(channels, imageShaped: true, dtype, device);
        to_qkv = LoadableLayers.Conv2d(channels, 3 * channels, 1, device: device, dtype: dtype);
        proj = LoadableLayers.Conv2d(channels, channels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long b = input.shape[0], c = input.shape[1], height = input.shape[2], width = input.shape[3];
        var normed = norm.forward(input);
        // [B, 3C, H, W] -> [B, 1, H*W, 3C]: one head whose features are the channels, q | k | v along the last axis.
        var qkv = ConvolutionPrecision.Forward(to_qkv, normed).reshape(b, 1, 3 * c, height * width).transpose(2, 3);
        var parts = qkv.chunk(3, -1);
        var attended = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2]);
        var image = attended.squeeze(1).transpose(1, 2).reshape(b, c, height, width);
        return input.Plus(ConvolutionPrecision.Forward(proj, image)).MoveToOuterDisposeScope();
    }
}

/// <summary>diffusers' QwenImageMidBlock with num_layers 1: resnets.0, attentions.0, resnets.1.</summary>
public sealed class QwenImageMidBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ModuleList<QwenImageAttentionBlock> attentions;
    public readonly ModuleList<QwenImageResidualBlock> resnets;
#pragma warning restore IDE1006, CA1051

    internal QwenImageMidBlock(long channels, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageMidBlock))
    {
        attentions = nn.ModuleList(new QwenImageAttentionBlock(channels, dtype, device));
        resnets = nn.ModuleList(new QwenImageResidualBlock(channels, channels, dtype, device), new QwenImageResidualBlock(channels, channels, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = resnets[0].forward(input);
        h = QwenImageLayers.Replace(h, attentions[0].forward(h));
        return QwenImageLayers.Replace(h, resnets[1].forward(h));
    }
}

/// <summary>diffusers' QwenImageUpBlock: resnets (the first changes the width), then optionally upsamplers.0.</summary>
public sealed class QwenImageUpBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ModuleList<QwenImageResidualBlock> resnets;
    public readonly ModuleList<QwenImageResample>? upsamplers;
#pragma warning restore IDE1006, CA1051

    internal QwenImageUpBlock(long inChannels, long outChannels, int resnetCount, QwenImageResampleMode? upsample, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageUpBlock))
    {
        var blocks = new QwenImageResidualBlock[resnetCount];
        for (int i = 0; i < resnetCount; i++) blocks[i] = new QwenImageResidualBlock(i == 0 ? inChannels : outChannels, outChannels, dtype, device);
        resnets = nn.ModuleList(blocks);
        if (upsample is { } mode) upsamplers = nn.ModuleList(new QwenImageResample(outChannels, mode, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = input.alias();
        foreach (var resnet in resnets) h = QwenImageLayers.Replace(h, resnet.forward(h));
        return upsamplers is null ? h : QwenImageLayers.Replace(h, upsamplers[0].forward(h));
    }
}

public enum QwenImageResampleMode
{
    Upsample2d,
    Upsample3d,
    Downsample2d,
    Downsample3d,
}

/// <summary>
/// diffusers' QwenImageResample on a first frame. resample.0 holds no weights (nearest-exact x2 upsampling, or a zero
/// pad of one column right and one row below); resample.1 is the Conv2d (3x3, halving the channels when upsampling,
/// stride 2 without padding when downsampling). The 3-D modes add a time_conv ([2C, C, 3, 1, 1] up, [C, C, 3, 1, 1]
/// down) that diffusers skips on the first chunk: upsample3d marks its cache "Rep" and downsample3d only caches the
/// frame, so a single image never reaches it.
/// </summary>
public sealed class QwenImageResample : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ModuleList<nn.Module<Tensor, Tensor>> resample;
    public readonly QwenImageCausalConv3d? time_conv;
#pragma warning restore IDE1006, CA1051

    internal QwenImageResample(long channels, QwenImageResampleMode mode, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageResample))
    {
        Mode = mode;
        bool up = mode is QwenImageResampleMode.Upsample2d or QwenImageResampleMode.Upsample3d;
        // diffusers asks for nearest-exact (in float32); at a factor of exactly 2 it picks source pixel floor(i / 2), as
        // nearest does (TorchSharp's Upsample has no nearest-exact), and copying values is exact in any dtype.
        nn.Module<Tensor, Tensor> spatial = up
            ? nn.Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest)
            : nn.ZeroPad2d((0, 1, 0, 1));
        var conv = up
            ? LoadableLayers.Conv2d(channels, channels / 2, 3, padding: 1, device: device, dtype: dtype)
            : LoadableLayers.Conv2d(channels, channels, 3, stride: 2, device: device, dtype: dtype);
        resample = nn.ModuleList(spatial, conv);
        if (mode == QwenImageResampleMode.Upsample3d) time_conv = new QwenImageCausalConv3d(channels, 2 * channels, 3, 1, dtype, device);
        if (mode == QwenImageResampleMode.Downsample3d) time_conv = new QwenImageCausalConv3d(channels, channels, 3, 1, dtype, device);
        RegisterComponents();
    }

    public QwenImageResampleMode Mode { get; }

    public override Tensor forward(Tensor input)
    {
        using var spatial = resample[0].forward(input);
        return ConvolutionPrecision.Forward((Conv2d)resample[1], spatial);
    }
}

static class QwenImageLayers
{
    /// <summary>Frees an intermediate activation as soon as the next one exists; full-size images make these large.</summary>
    public static Tensor Replace(Tensor previous, Tensor next)
    {
        previous.Dispose();
        return next;
    }
}
