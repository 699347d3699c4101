using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Glance.Engine.Runtime;

/// <summary>A device's caching-allocator counters, in bytes: held by live tensors, reserved from the driver (that plus the cache), and their peaks.</summary>
public readonly record struct DeviceMemoryStats(long Allocated, long Reserved, long PeakAllocated, long PeakReserved);

/// <summary>
/// libtorch's caching allocator on the accelerator (CUDA): it keeps the device memory of freed tensors for reuse, so a
/// disposed model's memory stays with this process until the cache is emptied (torch.cuda.empty_cache in Python).
/// TorchSharp 0.107's native layer has no such call; the GPU kit's build of it adds three exports
/// (scripts/gpu/patches/accelerator-memory), looked up here. With TorchSharp's NuGet natives they are absent, and every
/// call answers "not available" (false, null) without throwing, as on a CPU-only libtorch or before the device's
/// allocator has started.
/// </summary>
public static class AcceleratorMemory
{
    // Each export answers 1 when done, 0 with no accelerator in use, -1 on an error (message via TorchSharp's last error).
    const int Done = 1;
    const int Failed = -1;

    sealed record Exports(nint EmptyCache, nint MemoryStats, nint ResetPeakStats);

    static readonly Lazy<Exports?> Native = new(Find);

    /// <summary>True where the loaded LibTorchSharp has the exports (the GPU kit's build), false with TorchSharp's NuGet natives.</summary>
    public static bool IsReachable => Native.Value is not null;

    /// <summary>A line for reports: whether these counters can be read here, and why not.</summary>
    public static string Describe(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!IsReachable) return "device memory counters: not available (this LibTorchSharp has no GlanceAccelerator exports; the GPU kit's build adds them)";
        if (device.type != TorchSharp.DeviceType.CUDA) return $"device memory counters: reachable; none for device {device}";
        return Of(CudaOrdinal.Of(device)) is { } stats
            ? $"device memory counters: reachable; {Format(stats)}"
            : "device memory counters: reachable; the device's allocator has not started";
    }

    /// <summary>"allocated A GB, reserved R GB, peak allocated PA GB, peak reserved PR GB" (decimal GB, two places).</summary>
    public static string Format(DeviceMemoryStats stats) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"allocated {stats.Allocated / 1e9:F2} GB, reserved {stats.Reserved / 1e9:F2} GB, peak allocated {stats.PeakAllocated / 1e9:F2} GB, peak reserved {stats.PeakReserved / 1e9:F2} GB");

    /// <summary>
    /// Returns the allocator's unused cached blocks to the driver, so that other processes, and this process's start-up
    /// memory check, see them free. False where not reachable or no accelerator is in use.
    /// </summary>
    public static unsafe bool EmptyCache() =>
        Native.Value is { } native && Answer(((delegate* unmanaged<int>)native.EmptyCache)());

    /// <summary>The counters of device <paramref name="ordinal"/>; null where not reachable or no accelerator is in use.</summary>
    public static unsafe DeviceMemoryStats? Of(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        if (Native.Value is not { } native) return null;
        long* bytes = stackalloc long[4];
        return Answer(((delegate* unmanaged<long, long*, int>)native.MemoryStats)(ordinal, bytes))
            ? new DeviceMemoryStats(bytes[0], bytes[1], bytes[2], bytes[3])
            : null;
    }

    /// <summary>Starts the peaks of device <paramref name="ordinal"/> again from the current figures; false where not reachable or not in use.</summary>
    public static unsafe bool ResetPeak(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        return Native.Value is { } native && Answer(((delegate* unmanaged<long, int>)native.ResetPeakStats)(ordinal));
    }

    static bool Answer(int status)
    {
        if (status == Failed) TorchSharp.torch.CheckForErrors();
        return status == Done;
    }

    static Exports? Find()
    {
        // The same library TorchSharp loaded: it resolves "LibTorchSharp" relative to its own assembly.
        _ = cuda.is_available();
        if (!NativeLibrary.TryLoad("LibTorchSharp", typeof(TorchSharp.torch).Assembly, null, out var library)) return null;
        return NativeLibrary.TryGetExport(library, "GlanceAccelerator_empty_cache", out var empty)
            && NativeLibrary.TryGetExport(library, "GlanceAccelerator_memory_stats", out var stats)
            && NativeLibrary.TryGetExport(library, "GlanceAccelerator_reset_peak_stats", out var reset)
            ? new Exports(empty, stats, reset)
            : null;
    }
}
