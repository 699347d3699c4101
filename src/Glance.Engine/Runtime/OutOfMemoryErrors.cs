using System.Runtime.InteropServices;

namespace Glance.Engine.Runtime;

/// <summary>
/// Whether an engine call failed because memory ran out, so that the caller can retry with fewer requests. libtorch's
/// allocators raise c10 errors that TorchSharp rethrows as <see cref="ExternalException"/> carrying their message: the
/// CUDA caching allocator's "CUDA out of memory. Tried to allocate ...", the CPU allocator's "DefaultCPUAllocator: can't
/// allocate memory: ..." (libtorch 2.10; "not enough memory" in older releases), a CUDA library's "..._STATUS_ALLOC_FAILED" (cuBLAS, cuDNN workspaces); .NET's own
/// <see cref="OutOfMemoryException"/> counts too.
/// </summary>
public static class OutOfMemoryErrors
{
    static readonly string[] Markers = ["out of memory", "can't allocate memory", "not enough memory", "STATUS_ALLOC_FAILED"];

    public static bool Is(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is OutOfMemoryException) return true;
            if (e is ExternalException && Markers.Any(marker => e.Message.Contains(marker, StringComparison.OrdinalIgnoreCase))) return true;
        }
        return false;
    }
}
