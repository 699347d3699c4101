using System.Collections.Concurrent;

namespace Glance.Engine.Runtime;

/// <summary>A CUDA device's compute capability (8.0 for an A100, 9.0 for an H100 or H200).</summary>
public readonly record struct ComputeCapability(int Major, int Minor)
{
    /// <summary>Tensor cores that compute in bfloat16 arrived with Ampere, compute capability 8.0.</summary>
    public bool HasBFloat16TensorCores => Major >= 8;

    public override string ToString() => $"{Major}.{Minor}";
}

/// <summary>
/// Reads a CUDA device's compute capability from the CUDA driver (<see cref="CudaDriver"/>), because TorchSharp 0.107's
/// native layer exposes none (torch.cuda.get_device_capability has no counterpart there).
/// </summary>
public static class CudaCapability
{
    // CUdevice_attribute values of cuda.h.
    const int AttributeMajor = 75;
    const int AttributeMinor = 76;

    static readonly ConcurrentDictionary<int, ComputeCapability?> Cache = new();

    /// <summary>The capability of device <paramref name="ordinal"/>, or null where no CUDA driver answers (no GPU, no driver).</summary>
    public static ComputeCapability? Of(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return Cache.GetOrAdd(ordinal, Query);
    }

    static unsafe ComputeCapability? Query(int ordinal)
    {
        var attribute = CudaDriver.Export("cuDeviceGetAttribute");
        if (attribute == 0 || CudaDriver.Device(ordinal) is not { } device) return null;
        var cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)attribute;
        int major, minor;
        if (cuDeviceGetAttribute(&major, AttributeMajor, device) != 0 || cuDeviceGetAttribute(&minor, AttributeMinor, device) != 0) return null;
        return new ComputeCapability(major, minor);
    }
}
