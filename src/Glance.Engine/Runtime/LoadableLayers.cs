using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Runtime;

/// <summary>
/// TorchSharp's Linear, Embedding and Conv2d, built so that they honour <see cref="ParameterInitialization.Skip"/>:
/// their constructors always draw random weights, so inside the scope the layer is built where the draw costs nothing
/// (the meta device; a one-row table for Embedding) and given uninitialised parameters of the full shapes in the target
/// dtype and device. The layer type, its
/// state-dict keys (weight, bias) and its forward are TorchSharp's own; outside the scope this is the plain constructor.
/// </summary>
public static class LoadableLayers
{
    public static Linear Linear(long inFeatures, long outFeatures, bool hasBias, Device? device, ScalarType? dtype)
    {
        if (!ParameterInitialization.IsSkipped) return nn.Linear(inFeatures, outFeatures, hasBias: hasBias, device: device, dtype: dtype);
        var layer = nn.Linear(inFeatures, outFeatures, hasBias: hasBias, device: META, dtype: dtype);
        layer.weight = Uninitialised(layer.weight, device, dtype);
        if (layer.bias is { } bias) layer.bias = Uninitialised(bias, device, dtype);
        return layer;
    }

    public static Embedding Embedding(long count, long dimension, Device? device, ScalarType? dtype)
    {
        if (!ParameterInitialization.IsSkipped) return nn.Embedding(count, dimension, device: device, dtype: dtype);
        // TorchSharp's Embedding draws its table in float32 on the CPU whatever the device (8 s for T5's 32128 x 4096,
        // on the meta device too), so a one-row layer is built and given the whole table: its forward reads only the weight.
        var layer = nn.Embedding(1, dimension, device: device, dtype: dtype);
        layer.weight = new Parameter(empty([count, dimension], dtype: dtype, device: device));
        return layer;
    }

    public static Conv2d Conv2d(long inChannels, long outChannels, long kernelSize, Device? device, ScalarType? dtype, long stride = 1, long padding = 0)
    {
        if (!ParameterInitialization.IsSkipped)
            return nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, device: device, dtype: dtype);
        var layer = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, device: META, dtype: dtype);
        layer.weight = Uninitialised(layer.weight, device, dtype);
        if (layer.bias is { } bias) layer.bias = Uninitialised(bias, device, dtype);
        return layer;
    }

    /// <summary>An uninitialised parameter shaped like the meta-device one it replaces (the layer's setter releases that one).</summary>
    static Parameter Uninitialised(Parameter onMeta, Device? device, ScalarType? dtype) =>
        new(empty(onMeta.shape, dtype: dtype ?? onMeta.dtype, device: device));
}
