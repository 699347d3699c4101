using System.Runtime.InteropServices;

namespace Glance.Engine.Runtime;

/// <summary>
/// The CUDA driver library (libcuda), for the few facts TorchSharp 0.107's native layer does not expose. The driver
/// numbers devices as libtorch does (after CUDA_VISIBLE_DEVICES), so ordinal N is cuda:N. Every entry point returns
/// CUDA_SUCCESS (0) or an error code.
/// </summary>
static class CudaDriver
{
    /// <summary>The driver library, loaded and initialised (cuInit) once; 0 where there is none or it does not initialise.</summary>
    static readonly Lazy<nint> Library = new(Initialise);

    static unsafe nint Initialise()
    {
        if (!NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", out var library)) return 0;
        if (!NativeLibrary.TryGetExport(library, "cuInit", out var init) || ((delegate* unmanaged<uint, int>)init)(0) != 0) return 0;
        return library;
    }

    /// <summary>The driver's export <paramref name="name"/> (or its versioned <c>_v2</c> form, which cuda.h's macros call); 0 where there is no driver or no such export.</summary>
    public static nint Export(string name)
    {
        nint library = Library.Value;
        if (library == 0) return 0;
        return NativeLibrary.TryGetExport(library, name + "_v2", out var versioned) ? versioned
            : NativeLibrary.TryGetExport(library, name, out var plain) ? plain : 0;
    }

    /// <summary>The driver's handle of device <paramref name="ordinal"/>, or null.</summary>
    public static unsafe int? Device(int ordinal)
    {
        var get = Export("cuDeviceGet");
        if (get == 0) return null;
        int device;
        return ((delegate* unmanaged<int*, int, int>)get)(&device, ordinal) == 0 ? device : null;
    }
}
