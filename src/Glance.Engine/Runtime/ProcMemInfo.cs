using System.Globalization;

namespace Glance.Engine.Runtime;

/// <summary>Reads MemAvailable from a /proc/meminfo text: the kernel's estimate of memory that can be allocated without swapping (free memory plus reclaimable caches).</summary>
public static class ProcMemInfo
{
    /// <returns>Bytes, or null when the text has no (readable) MemAvailable line.</returns>
    public static long? MemAvailableBytes(string meminfo)
    {
        ArgumentNullException.ThrowIfNull(meminfo);
        foreach (string line in meminfo.Split('\n'))
        {
            if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
            string[] parts = line["MemAvailable:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // The kernel writes "kB" and means KiB.
            if (parts.Length == 2 && parts[1] == "kB" && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib)) return kib * 1024;
            return null;
        }
        return null;
    }
}
