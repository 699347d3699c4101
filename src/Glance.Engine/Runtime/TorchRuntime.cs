using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Runtime;

/// <summary>Resolves device and precision options against what this process can actually use.</summary>
public static class TorchRuntime
{
    public static Device ResolveDevice(string requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        string name = requested.Trim().ToLowerInvariant();
        if (name is "" or "auto") return cuda.is_available() ? CUDA : CPU;
        if (name == "cpu") return CPU;
        if (name.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new InvalidOperationException($"Device '{requested}' was requested but CUDA is not available to this process (is the CUDA build of TorchSharp in use, and a GPU visible?).");
            return new Device(name);
        }
        throw new ArgumentException($"Unknown device '{requested}'; expected auto, cpu, cuda or cuda:N.", nameof(requested));
    }

    /// <summary>
    /// float32, bfloat16, float16 (CUDA only), or auto: bfloat16 on CUDA GPUs with bfloat16 tensor cores (compute
    /// capability 8.0 and later, read from the driver: <see cref="CudaCapability"/>; where the driver does not answer,
    /// bfloat16 as before) and on CPUs with native bfloat16 (there it ran glance-mini about 1.6x faster with images
    /// within rounding of float32), float32 on older GPUs and other CPUs, and float32 wherever a kernel the models use
    /// turns out wrong in bfloat16 on this machine (<see cref="KernelPrecision"/>, checked once per process:
    /// docs/precision.md records a CPU whose bfloat16 convolution was).
    /// </summary>
    public static ScalarType ResolveDType(string requested, Device device)
    {
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(device);
        bool auto = requested.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase);
        var capability = auto && device.type == DeviceType.CUDA ? CudaCapability.Of(CudaOrdinal.Of(device)) : null;
        var dtype = ResolveDType(requested, device, CpuFeatures.HasNativeBFloat16, capability);
        return auto && dtype != ScalarType.Float32 && !KernelPrecision.IsVerified(device, dtype) ? ScalarType.Float32 : dtype;
    }

    public static ScalarType ResolveDType(string requested, Device device, bool cpuHasNativeBFloat16) =>
        ResolveDType(requested, device, cpuHasNativeBFloat16, cudaCapability: null);

    /// <param name="cudaCapability">The CUDA device's compute capability, null where unknown (auto then keeps bfloat16).</param>
    public static ScalarType ResolveDType(string requested, Device device, bool cpuHasNativeBFloat16, ComputeCapability? cudaCapability)
    {
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(device);
        ScalarType dtype = requested.Trim().ToLowerInvariant() switch
        {
            "float32" or "fp32" => ScalarType.Float32,
            "bfloat16" or "bf16" => ScalarType.BFloat16,
            "float16" or "fp16" => ScalarType.Float16,
            "auto" when device.type == DeviceType.CUDA => cudaCapability is { HasBFloat16TensorCores: false } ? ScalarType.Float32 : ScalarType.BFloat16,
            "auto" => cpuHasNativeBFloat16 ? ScalarType.BFloat16 : ScalarType.Float32,
            _ => throw new ArgumentException($"Unknown dtype '{requested}'; expected auto, float32, bfloat16 or float16.", nameof(requested)),
        };
        if (dtype == ScalarType.Float16 && device.type != DeviceType.CUDA)
            throw new ArgumentException($"float16 needs a CUDA device; received device '{device}'. Use bfloat16 or float32 on CPU.", nameof(requested));
        return dtype;
    }

    /// <summary>The text encoders' device and precision from <see cref="EngineOptions.TextEncoderDevice"/> and <see cref="EngineOptions.TextEncoderDType"/>.</summary>
    public static (Device Device, ScalarType DType) ResolveTextEncoders(EngineOptions options, Device modelDevice, ScalarType modelDType)
    {
        ArgumentNullException.ThrowIfNull(options);
        var device = options.TextEncoderDevice == EngineOptions.ModelPlacement ? modelDevice : ResolveDevice(options.TextEncoderDevice);
        var dtype = options.TextEncoderDType == EngineOptions.ModelPlacement
            ? (device.type == modelDevice.type ? modelDType : ResolveDType("auto", device))
            : ResolveDType(options.TextEncoderDType, device);
        return (device, dtype);
    }

    /// <summary>Waits for queued device work so that a clock read afterwards measures it (no-op on CPU).</summary>
    public static void Synchronize(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
    }
}
