namespace Glance.Engine.Runtime;

/// <summary>What the host CPU does natively, where it matters for choosing a precision.</summary>
public static class CpuFeatures
{
    static readonly Lazy<bool> NativeBFloat16 = new(() => ReportsNativeBFloat16(ReadCpuInfo()));

    /// <summary>
    /// True when the CPU has bfloat16 arithmetic in hardware (AVX512-BF16 or AMX-BF16, read from /proc/cpuinfo on
    /// Linux; false elsewhere). Without it libtorch emulates bfloat16 and runs far slower than float32.
    /// </summary>
    public static bool HasNativeBFloat16 => NativeBFloat16.Value;

    /// <summary>Whether a /proc/cpuinfo text lists avx512_bf16 or amx_bf16 among the flags of its processors.</summary>
    public static bool ReportsNativeBFloat16(string? cpuInfo)
    {
        if (string.IsNullOrEmpty(cpuInfo)) return false;
        foreach (string line in cpuInfo.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || !line[..colon].Trim().Equals("flags", StringComparison.Ordinal)) continue;
            string[] flags = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (flags.Contains("avx512_bf16", StringComparer.Ordinal) || flags.Contains("amx_bf16", StringComparer.Ordinal)) return true;
        }
        return false;
    }

    static string? ReadCpuInfo()
    {
        const string path = "/proc/cpuinfo";
        try
        {
            return OperatingSystem.IsLinux() && File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
