using System.Runtime.InteropServices;

namespace Glance.Engine.Runtime;

/// <summary>
/// Hands freed host memory back to the system after a model is disposed. libtorch frees a tensor's CPU storage with
/// free(), and glibc keeps freed blocks below its (adaptive) mmap threshold in its heaps, so without a trim the
/// resident size of a process that loads and disposes models grows with every cycle.
/// </summary>
public static partial class HostMemory
{
    public static void Release()
    {
        // Tensor wrappers that were never disposed hold their storage until finalized.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = MallocTrim(0);
            }
            catch (EntryPointNotFoundException)
            {
                // Not glibc (e.g. musl): nothing to trim.
            }
            catch (DllNotFoundException)
            {
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
