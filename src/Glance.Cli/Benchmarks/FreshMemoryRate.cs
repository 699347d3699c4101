using System.Diagnostics;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// How fast this process can write memory it has not touched before, through libtorch's CPU allocator (the allocator that
/// parameters come from, huge pages included). A load writes every byte of the model into such memory, so this rate bounds
/// a CPU load as the disk's does. On bare metal it is the kernel zeroing pages (several GB/s); in VMs whose host backs
/// guest memory lazily, or takes freed memory back (free page reporting), every first touch is a host fault as well, and it
/// can fall below the disk's rate (docs/loading.md).
/// </summary>
public static class FreshMemoryRate
{
    const long Chunk = 64L << 20;

    /// <summary>Allocates, writes and frees <paramref name="bytes"/> in 64 MiB tensors; returns the seconds the writes took.</summary>
    public static double Measure(long bytes)
    {
        var chunks = new List<Tensor>();
        try
        {
            var clock = Stopwatch.StartNew();
            for (long done = 0; done < bytes; done += Chunk)
            {
                var chunk = empty(Math.Min(Chunk, bytes - done), dtype: ScalarType.Byte);
                chunks.Add(chunk);
                chunk.bytes.Fill(1);
            }
            return clock.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var chunk in chunks) chunk.Dispose();
        }
    }
}
