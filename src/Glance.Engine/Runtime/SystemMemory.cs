namespace Glance.Engine.Runtime;

/// <summary>
/// The memory this machine has left, from the kernel's files: on the CPU the smaller of MemAvailable and the cgroup
/// headroom (<see cref="CgroupMemory"/>: what keeps a container from being OOM-killed). CUDA memory is not known here:
/// TorchSharp 0.107 exposes no query for it (no mem_get_info or memory statistics, managed or native).
/// </summary>
/// <param name="MemInfo">/proc/meminfo.</param>
/// <param name="SelfCgroup">/proc/self/cgroup.</param>
/// <param name="CgroupRoot">/sys/fs/cgroup.</param>
public sealed record SystemMemory(string MemInfo, string SelfCgroup, string CgroupRoot) : IMemoryAvailability
{
    /// <summary>This machine's files.</summary>
    public static SystemMemory Host { get; } = new("/proc/meminfo", "/proc/self/cgroup", "/sys/fs/cgroup");

    public const string CudaUnknown = "not checked: TorchSharp 0.107 exposes no CUDA memory query";

    public AvailableMemory Available(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase)) return new AvailableMemory(null, CudaUnknown);
        if (!device.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return new AvailableMemory(null, $"not checked: no memory query for device '{device}'");
        long? available = KernelFiles.Text(MemInfo) is { } meminfo ? ProcMemInfo.MemAvailableBytes(meminfo) : null;
        var cgroup = CgroupMemory.Read(CgroupRoot, KernelFiles.Text(SelfCgroup));
        if (cgroup is not null && (available is null || cgroup.Bytes < available))
            return new AvailableMemory(cgroup.Bytes, cgroup.Source + (available is { } a ? $"; MemAvailable in {MemInfo} is {ByteSize.Format(a)}" : ""));
        return available is { } bytes
            ? new AvailableMemory(bytes, $"MemAvailable in {MemInfo}{(cgroup is null ? "; no cgroup memory limit" : $"; {cgroup.Source}")}")
            : new AvailableMemory(null, $"not checked: {MemInfo} has no MemAvailable line and no cgroup memory limit was found");
    }
}
