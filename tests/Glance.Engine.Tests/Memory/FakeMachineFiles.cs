using System.Globalization;
using Glance.Engine.Runtime;

namespace Glance.Engine.Tests.Memory;

/// <summary>A temporary stand-in for /proc/meminfo, /proc/self/cgroup and /sys/fs/cgroup, which <see cref="SystemMemory"/> is pointed at.</summary>
public sealed class FakeMachineFiles : IDisposable
{
    public const long GiB = 1L << 30;

    readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("glance-fake-machine-");

    public SystemMemory Memory => new(Path.Combine(_root.FullName, "meminfo"), Path.Combine(_root.FullName, "self-cgroup"), CgroupRoot, CudaQuery);

    /// <summary>The CUDA driver's answer by ordinal; by default none (no driver), whatever machine runs the tests.</summary>
    public Func<int, (long Free, long Total)?> CudaQuery { get; set; } = _ => null;

    public string CgroupRoot => Path.Combine(_root.FullName, "cgroup");

    /// <summary>A /proc/meminfo as the kernel writes it, MemAvailable in kB.</summary>
    public FakeMachineFiles MemAvailable(long bytes)
    {
        File.WriteAllText(Path.Combine(_root.FullName, "meminfo"),
            $"MemTotal:       65536000 kB\nMemFree:         1024000 kB\nMemAvailable:   {bytes / 1024,10} kB\nBuffers:           20480 kB\n");
        return this;
    }

    /// <summary>/proc/self/cgroup's text.</summary>
    public FakeMachineFiles SelfCgroup(string text)
    {
        File.WriteAllText(Path.Combine(_root.FullName, "self-cgroup"), text);
        return this;
    }

    /// <summary>Writes a file below the cgroup mount, e.g. ("memory.max", "8589934592\n").</summary>
    public FakeMachineFiles Cgroup(string relativePath, string text)
    {
        string path = Path.Combine(CgroupRoot, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return this;
    }

    /// <summary>A cgroup v2 mount (it holds cgroup.controllers) with a cgroup at <paramref name="directory"/> ("" for the mount itself); a null <paramref name="max"/> is written "max" (no limit).</summary>
    public FakeMachineFiles V2(string directory, long? max, long current, long inactiveFile = 0)
    {
        Cgroup("cgroup.controllers", "cpuset cpu io memory pids\n");
        Cgroup(Path.Combine(directory, "memory.max"), (max is null ? "max" : max.Value.ToString(CultureInfo.InvariantCulture)) + "\n");
        Cgroup(Path.Combine(directory, "memory.current"), current + "\n");
        return Cgroup(Path.Combine(directory, "memory.stat"), $"anon 1000\nfile {inactiveFile + 4096}\nactive_file 4096\ninactive_file {inactiveFile}\n");
    }

    /// <summary>A cgroup v1 memory controller under memory/, with a cgroup at <paramref name="directory"/> ("" for the controller's mount).</summary>
    public FakeMachineFiles V1(string directory, long limit, long usage, long totalInactiveFile = 0)
    {
        string path = Path.Combine("memory", directory);
        Cgroup(Path.Combine(path, "memory.limit_in_bytes"), limit + "\n");
        Cgroup(Path.Combine(path, "memory.usage_in_bytes"), usage + "\n");
        return Cgroup(Path.Combine(path, "memory.stat"), $"cache 5000\ninactive_file {totalInactiveFile}\nhierarchical_memory_limit {limit}\ntotal_inactive_file {totalInactiveFile}\n");
    }

    public void Dispose() => _root.Delete(recursive: true);
}
