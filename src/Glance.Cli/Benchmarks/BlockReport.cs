using System.Globalization;
using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// What the `glance bench blocks` reports of every model family share: the machine line, the matmul rate per dtype
/// (the yardstick) and the "ms | GFLOP | GFLOP/s | % of matmul" cells.
/// </summary>
internal static class BlockReport
{
    /// <summary>Prints the CPU, threads and timing plan, then measures and prints the matmul rate of each dtype, and returns the rates.</summary>
    public static Dictionary<ScalarType, double> MachineAndMatmulRates(
        TextWriter output, IReadOnlyList<ScalarType> dtypes, Device device, int warmup, int iterations)
    {
        output.WriteLine(Invariant(
            $"CPU {CpuModel()}, {get_num_threads()} threads, device {device}; {warmup} warm-up + {iterations} timed forwards per block, medians"));
        var matmulRates = dtypes.ToDictionary(dtype => dtype, dtype => MatmulRate.GflopsPerSecond(dtype, device, warmup, iterations));
        output.WriteLine(Invariant(
            $"matmul [{MatmulRate.Rows} x {MatmulRate.Features}] x [{MatmulRate.Features} x {MatmulRate.Features}]^T ({MatmulRate.Flops / 1e9:F1} GFLOP), median of {iterations}: ")
            + string.Join(", ", matmulRates.Select(rate => Invariant($"{Name(rate.Key)} {rate.Value:F1} GFLOP/s"))));
        return matmulRates;
    }

    /// <summary>"ms | GFLOP | GFLOP/s | % of matmul", or dashes when no block of the kind was timed.</summary>
    public static string Rates(double ms, long flops, double matmulGflopsPerSecond)
    {
        if (double.IsNaN(ms)) return "- | - | - | -";
        double gflopsPerSecond = flops / (ms * 1e6);
        return Invariant($"{ms:F1} | {flops / 1e9:F1} | {gflopsPerSecond:F1} | {100 * gflopsPerSecond / matmulGflopsPerSecond:F0}%");
    }

    /// <summary>
    /// " device peak GB |" for a table's header row where this run can measure the device's peak memory per row (CUDA,
    /// and the GPU kit's LibTorchSharp: <see cref="AcceleratorMemory"/>); empty elsewhere.
    /// </summary>
    public static string DevicePeakHeader(Device device) => HasDevicePeak(device) ? " device peak GB |" : "";

    /// <summary>The separator cell that goes with <see cref="DevicePeakHeader"/>.</summary>
    public static string DevicePeakRule(Device device) => HasDevicePeak(device) ? "---:|" : "";

    /// <summary>Starts the device's peak again, before a row is measured.</summary>
    public static void ResetDevicePeak(Device device)
    {
        if (HasDevicePeak(device)) AcceleratorMemory.ResetPeak(CudaOrdinal.Of(device));
    }

    /// <summary>" P |": the peak device memory allocated since <see cref="ResetDevicePeak"/> (the blocks' weights and the row's activations); empty where not measured.</summary>
    public static string DevicePeakCell(Device device)
    {
        if (!HasDevicePeak(device)) return "";
        return AcceleratorMemory.Of(CudaOrdinal.Of(device)) is { } stats ? Invariant($" {stats.PeakAllocated / 1e9:F2} |") : " - |";
    }

    static bool HasDevicePeak(Device device) => device.type == TorchSharp.DeviceType.CUDA && AcceleratorMemory.IsReachable;

    public static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => dtype.ToString(),
    };

    /// <summary>The first "model name" of /proc/cpuinfo, or "unknown" where there is none (not Linux, or not x86).</summary>
    static string CpuModel()
    {
        const string path = "/proc/cpuinfo";
        if (!File.Exists(path)) return "unknown";
        string? line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "unknown" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
