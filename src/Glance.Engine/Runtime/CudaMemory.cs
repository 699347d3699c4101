namespace Glance.Engine.Runtime;

/// <summary>
/// A CUDA device's free and total memory from the CUDA driver (cuMemGetInfo in the device's primary context, the context
/// libtorch uses), because TorchSharp 0.107 exposes no memory query. Free memory is what other processes and contexts
/// have left on the device, read before this process allocates anything there.
/// </summary>
public static class CudaMemory
{
    /// <summary>(free, total) bytes of device <paramref name="ordinal"/>, or null where no CUDA driver answers.</summary>
    public static unsafe (long Free, long Total)? Of(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        var retain = CudaDriver.Export("cuDevicePrimaryCtxRetain");
        var release = CudaDriver.Export("cuDevicePrimaryCtxRelease");
        var push = CudaDriver.Export("cuCtxPushCurrent");
        var pop = CudaDriver.Export("cuCtxPopCurrent");
        var info = CudaDriver.Export("cuMemGetInfo");
        if (retain == 0 || release == 0 || push == 0 || pop == 0 || info == 0 || CudaDriver.Device(ordinal) is not { } device) return null;
        nint context;
        if (((delegate* unmanaged<nint*, int, int>)retain)(&context, device) != 0) return null;
        try
        {
            if (((delegate* unmanaged<nint, int>)push)(context) != 0) return null;
            nuint free, total;
            int status = ((delegate* unmanaged<nuint*, nuint*, int>)info)(&free, &total);
            nint popped;
            _ = ((delegate* unmanaged<nint*, int>)pop)(&popped);
            return status == 0 ? ((long)free, (long)total) : null;
        }
        finally
        {
            _ = ((delegate* unmanaged<int, int>)release)(device);
        }
    }
}
