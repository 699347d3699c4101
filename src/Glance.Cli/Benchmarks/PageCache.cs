using System.Diagnostics;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// Empties Linux's page cache before a timed read, where this process may (root, /proc/sys/vm/drop_caches writable): dirty
/// pages are synced first, then clean ones dropped. Where it may not, reads of recently read or written files likely come
/// from memory, and the benchmark says so.
/// </summary>
public static class PageCache
{
    const string DropCaches = "/proc/sys/vm/drop_caches";

    /// <summary>True when the cache was dropped.</summary>
    public static bool TryDrop()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(DropCaches)) return false;
        try
        {
            using (var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false }))
                sync?.WaitForExit();
            File.WriteAllText(DropCaches, "1");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
