using System.Globalization;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// The process's resident memory as Linux reports it in /proc/self/status (VmRSS now, VmHWM the peak), and a reset of that
/// peak (writing "5" to /proc/self/clear_refs), so that a peak can be taken per phase. Elsewhere: the current working set
/// only, and no per-phase peak.
/// </summary>
public static class ProcessMemory
{
    const string Status = "/proc/self/status";
    const string ClearRefs = "/proc/self/clear_refs";

    public static bool HasPeakReset => OperatingSystem.IsLinux() && File.Exists(ClearRefs);

    /// <summary>Resets the high-water mark to the current resident size; false when the system has no such reset.</summary>
    public static bool ResetPeak()
    {
        if (!HasPeakReset) return false;
        try
        {
            File.WriteAllText(ClearRefs, "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Resident bytes now.</summary>
    public static long Resident() => Read("VmRSS:") ?? Environment.WorkingSet;

    /// <summary>Peak resident bytes since the last reset (or since start); null where the system does not report it.</summary>
    public static long? Peak() => Read("VmHWM:");

    static long? Read(string field)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Status)) return null;
        foreach (string line in File.ReadLines(Status))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            string[] parts = line[field.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024; // reported in kB
        }
        return null;
    }
}
