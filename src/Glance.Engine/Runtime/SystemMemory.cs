namespace Glance.Engine.Runtime;

/// <summary>
/// The memory this machine has left, from the kernel's files: on the CPU the smaller of MemAvailable and the cgroup
/// headroom (<see cref="CgroupMemory"/>: what keeps a container from being OOM-killed); on a CUDA device the free memory
/// the driver reports (<see cref="CudaMemory"/>), since TorchSharp 0.107 exposes no query for it, after this process's
/// cached device blocks are returned where that can be done (<see cref="AcceleratorMemory.EmptyCache"/>).
/// </summary>
/// <param name="MemInfo">/proc/meminfo.</param>
/// <param name="SelfCgroup">/proc/self/cgroup.</param>
/// <param name="CgroupRoot">/sys/fs/cgroup.</param>
/// <param name="CudaQuery">A CUDA device's (free, total) bytes by ordinal, null where unknown; <see cref="CudaMemory.Of"/> when not given.</param>
public sealed record SystemMemory(string MemInfo, string SelfCgroup, string CgroupRoot, Func<int, (long Free, long Total)?>? CudaQuery = null) : IMemoryAvailability
{
    /// <summary>This machine's files and CUDA driver.</summary>
    public static SystemMemory Host { get; } = new("/proc/meminfo", "/proc/self/cgroup", "/sys/fs/cgroup");

    public const string CudaUnknown = "not checked: no CUDA driver answered the memory query";

    public AvailableMemory Available(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase)) return Cuda(device);
        if (!device.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return new AvailableMemory(null, $"not checked: no memory query for device '{device}'");
        long? available = KernelFiles.Text(MemInfo) is { } meminfo ? ProcMemInfo.MemAvailableBytes(meminfo) : null;
        var cgroup = CgroupMemory.Read(CgroupRoot, KernelFiles.Text(SelfCgroup));
        if (cgroup is not null && (available is null || cgroup.Bytes < available))
            return new AvailableMemory(cgroup.Bytes, cgroup.Source + (available is { } a ? $"; MemAvailable in {MemInfo} is {ByteSize.Format(a)}" : ""));
        return available is { } bytes
            ? new AvailableMemory(bytes, $"MemAvailable in {MemInfo}{(cgroup is null ? "; no cgroup memory limit" : $"; {cgroup.Source}")}")
            : new AvailableMemory(null, $"not checked: {MemInfo} has no MemAvailable line and no cgroup memory limit was found");
    }

    AvailableMemory Cuda(string device)
    {
        if (CudaOrdinal.Parse(device) is not { } ordinal) return new AvailableMemory(null, $"not checked: '{device}' names no CUDA device ordinal");
        // The driver counts this process's cached blocks (a model disposed earlier in it) as used: return them first.
        bool emptied = CudaQuery is null && AcceleratorMemory.EmptyCache();
        return (CudaQuery ?? CudaMemory.Of)(ordinal) is var (free, total)
            ? new AvailableMemory(free, $"free on CUDA device {ordinal} as its driver reports (cuMemGetInfo; {ByteSize.Format(total)} in all{(emptied ? "; after returning this process's cached blocks" : "")})")
            : new AvailableMemory(null, CudaUnknown);
    }
}
