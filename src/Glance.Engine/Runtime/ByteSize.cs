using System.Globalization;

namespace Glance.Engine.Runtime;

/// <summary>Byte counts as people read them in messages and reports.</summary>
public static class ByteSize
{
    /// <summary>"12.34 GiB" from 1 GiB up, else "567.8 MiB".</summary>
    public static string Format(long bytes) => Math.Abs(bytes) >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB");
}
