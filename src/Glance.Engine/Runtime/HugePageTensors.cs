using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Glance.Engine.Runtime;

/// <summary>
/// Asks libtorch to back CPU tensors of 2 MiB and more with transparent huge pages (its THP_MEM_ALLOC_ENABLE switch:
/// 2 MiB-aligned storage, madvise(MADV_HUGEPAGE)). Where THP is "madvise" (the default on many distributions), tensors
/// otherwise get 4 KiB pages, and on the VMs measured (docs/loading.md) touching fresh 4 KiB pages and copying file
/// bytes into them was what limited a checkpoint load: 300 MB first-touched in 1.9 s with 4 KiB pages, 0.08 s with
/// huge pages. libtorch reads the variable once, at its first CPU allocation, from the native environment (which
/// .NET's Environment.SetEnvironmentVariable does not change on Unix), so it is set through libc when this assembly
/// loads. A value already in the environment (e.g. THP_MEM_ALLOC_ENABLE=0) is left as it is.
/// </summary>
static partial class HugePageTensors
{
    const string Variable = "THP_MEM_ALLOC_ENABLE";

#pragma warning disable CA2255 // must run before any engine code allocates a tensor, and libtorch latches the setting at its first allocation
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Enable()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not null) return;
        try
        {
            _ = SetEnv(Variable, "1", 0);
        }
        catch (DllNotFoundException)
        {
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
