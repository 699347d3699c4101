using System.Diagnostics;
using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>Wall-clock timing of tensor work, including the wait for queued device work, and the median of runs.</summary>
internal static class BenchClock
{
    /// <summary>Milliseconds for <paramref name="run"/> until its work is done; its outputs are freed after the clock stops.</summary>
    public static double Milliseconds(Device device, Func<Tensor[]> run)
    {
        var clock = Stopwatch.StartNew();
        var outputs = run();
        TorchRuntime.Synchronize(device);
        double ms = clock.Elapsed.TotalMilliseconds;
        foreach (var output in outputs) output.Dispose();
        return ms;
    }

    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("No timings to take the median of; expected at least one timed iteration.", nameof(values));
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
