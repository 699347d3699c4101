using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Glance.Engine.Runtime;

/// <summary>
/// Turns off libtorch's NNPACK convolution path (PyTorch's torch.backends.nnpack.enabled = False), which TorchSharp
/// 0.107 does not expose. On CPUs NNPACK does not support, libtorch's CPU convolution asks NNPACK whether it is available
/// before each eligible convolution, and every failed initialisation prints "Could not initialize NNPACK! Reason:
/// Unsupported hardware." to stderr (a dozen lines per `glance generate` on our CI machines). With the switch off the
/// convolution goes straight to its other kernels, which it uses anyway where NNPACK is unavailable; nothing else
/// printed to stderr is touched.
/// </summary>
public static class Nnpack
{
    /// <summary>
    /// Sets at::globalContext().setUserEnabledNNPACK(false) in the libtorch TorchSharp has loaded. Call before the first
    /// convolution; true when the switch was set (false where the library or its exports are not found, e.g. on Windows,
    /// whose C++ names differ: there the warning, if any, stays).
    /// </summary>
    public static bool Disable()
    {
        // Loads TorchSharp's native libraries (libtorch_cpu among them) so that the lookup below finds that copy.
        _ = get_num_threads();
        if (!OperatingSystem.IsLinux()) return false;
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out IntPtr library)
            && !NativeLibrary.TryLoad(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cpu.so"), out library))
            return false;
        if (!NativeLibrary.TryGetExport(library, "_ZN2at13globalContextEv", out IntPtr globalContext)
            || !NativeLibrary.TryGetExport(library, "_ZN2at7Context20setUserEnabledNNPACKEb", out IntPtr setEnabled)
            || !NativeLibrary.TryGetExport(library, "_ZNK2at7Context17userEnabledNNPACKEv", out IntPtr getEnabled))
            return false;
        unsafe
        {
            // Itanium C++ ABI: a member function takes the object as its first argument.
            IntPtr context = ((delegate* unmanaged<IntPtr>)globalContext)();
            ((delegate* unmanaged<IntPtr, byte, void>)setEnabled)(context, 0);
            return ((delegate* unmanaged<IntPtr, byte>)getEnabled)(context) == 0;
        }
    }
}
