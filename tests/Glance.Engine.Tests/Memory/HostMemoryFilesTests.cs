using Glance.Engine.Runtime;
using static Glance.Engine.Tests.Memory.FakeMachineFiles;

namespace Glance.Engine.Tests.Memory;

/// <summary>What the host has left, read from (fake) /proc/meminfo and cgroup files: the smaller of MemAvailable and the cgroup headroom.</summary>
public sealed class HostMemoryFilesTests : IDisposable
{
    readonly FakeMachineFiles _machine = new();

    public void Dispose() => _machine.Dispose();

    AvailableMemory Host() => _machine.Memory.Available("cpu");

    [Fact]
    public void MemAvailableIsReadInKibibytes()
    {
        Assert.Equal(24_095_664L * 1024, ProcMemInfo.MemAvailableBytes("MemTotal:       32000000 kB\nMemFree:  100 kB\nMemAvailable:   24095664 kB\n"));
        Assert.Null(ProcMemInfo.MemAvailableBytes("MemTotal:       32000000 kB\nMemFree:  100 kB\n"));
    }

    [Fact]
    public void WithoutCgroupFilesMemAvailableAloneCounts()
    {
        _machine.MemAvailable(20 * GiB);

        var host = Host();

        Assert.Equal(20 * GiB, host.Bytes);
        Assert.Contains("MemAvailable in", host.Source, StringComparison.Ordinal);
        Assert.Contains("no cgroup memory limit", host.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void ACgroupV2LimitBelowMemAvailableBindsWithTheInactiveFileCacheCountedAsFree()
    {
        _machine.MemAvailable(20 * GiB).SelfCgroup("0::/\n").V2("", max: 8 * GiB, current: 3 * GiB, inactiveFile: 1 * GiB);

        var host = Host();

        // 8 GiB limit - (3 GiB charged - 1 GiB reclaimable file cache) = 6 GiB.
        Assert.Equal(6 * GiB, host.Bytes);
        Assert.Contains(Path.Combine(_machine.CgroupRoot, "memory.max"), host.Source, StringComparison.Ordinal);
        Assert.Contains("8.00 GiB", host.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void ACgroupV2WithoutALimitFallsBackToMemAvailable()
    {
        _machine.MemAvailable(20 * GiB).SelfCgroup("0::/\n").V2("", max: null, current: 3 * GiB);

        var host = Host();

        Assert.Equal(20 * GiB, host.Bytes);
        Assert.StartsWith("MemAvailable in", host.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void MemAvailableBindsWhenItIsSmallerThanTheCgroupHeadroom()
    {
        _machine.MemAvailable(2 * GiB).SelfCgroup("0::/\n").V2("", max: 8 * GiB, current: 1 * GiB);

        var host = Host();

        Assert.Equal(2 * GiB, host.Bytes);
        Assert.StartsWith("MemAvailable in", host.Source, StringComparison.Ordinal);
        Assert.Contains("memory.max", host.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTightestLimitFromTheProcessesOwnCgroupUpToTheMountBinds()
    {
        // A systemd slice's MemoryMax above the process's own (unlimited) service cgroup.
        _machine.MemAvailable(50 * GiB).SelfCgroup("0::/app.slice/glance.service\n")
            .V2("", max: null, current: 10 * GiB)
            .V2("app.slice", max: 16 * GiB, current: 4 * GiB)
            .V2(Path.Combine("app.slice", "glance.service"), max: null, current: 2 * GiB);

        var host = Host();

        Assert.Equal(12 * GiB, host.Bytes);
        Assert.Contains(Path.Combine(_machine.CgroupRoot, "app.slice", "memory.max"), host.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void ACgroupV1LimitBinds()
    {
        _machine.MemAvailable(20 * GiB).SelfCgroup("5:devices:/\n4:memory:/\n0::/\n").V1("", limit: 4 * GiB, usage: 1 * GiB, totalInactiveFile: GiB / 2);

        var host = Host();

        Assert.Equal(4 * GiB - GiB / 2, host.Bytes);
        Assert.Contains(Path.Combine(_machine.CgroupRoot, "memory", "memory.limit_in_bytes"), host.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void ACgroupV1ContainerWhoseMountIsItsOwnCgroupIsReadAtTheMount()
    {
        // Docker with cgroup v1: /proc/self/cgroup names /docker/ID, but the container sees its own cgroup at the mount.
        _machine.MemAvailable(20 * GiB).SelfCgroup("4:memory:/docker/0123abcd\n").V1("", limit: 3 * GiB, usage: 1 * GiB);

        Assert.Equal(2 * GiB, Host().Bytes);
    }

    [Fact]
    public void ACgroupV1UnlimitedValueIsNoLimit()
    {
        _machine.MemAvailable(20 * GiB).SelfCgroup("4:memory:/process_api/1a2b\n")
            .V1("", limit: 9223372036854771712, usage: 9 * GiB)
            .V1(Path.Combine("process_api", "1a2b"), limit: 9223372036854771712, usage: 1 * GiB);

        var host = Host();

        Assert.Equal(20 * GiB, host.Bytes);
        Assert.Contains("no cgroup memory limit", host.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void ACgroupAtItsLimitHasNoHeadroom()
    {
        _machine.MemAvailable(20 * GiB).SelfCgroup("0::/\n").V2("", max: 4 * GiB, current: 5 * GiB);

        Assert.Equal(0, Host().Bytes);
    }

    [Fact]
    public void WithNeitherMeminfoNorACgroupLimitTheHostIsNotChecked()
    {
        var host = Host();

        Assert.Null(host.Bytes);
        Assert.StartsWith("not checked", host.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void CudaMemoryWithoutADriverIsNotKnownAndSaysWhy()
    {
        var cuda = _machine.MemAvailable(20 * GiB).Memory.Available("cuda:0");

        Assert.Null(cuda.Bytes);
        Assert.Equal(SystemMemory.CudaUnknown, cuda.Source);
    }

    [Fact]
    public void CudaMemoryIsWhatTheDriverReportsFreeOnThatDevice()
    {
        var asked = new List<int>();
        _machine.CudaQuery = ordinal =>
        {
            asked.Add(ordinal);
            return (70 * GiB, 141 * GiB);
        };

        var first = _machine.Memory.Available("cuda");
        var second = _machine.Memory.Available("cuda:1");
        var odd = _machine.Memory.Available("cuda:x");

        Assert.Equal([0, 1], asked);
        Assert.Equal(70 * GiB, first.Bytes);
        Assert.Contains("cuMemGetInfo", first.Source, StringComparison.Ordinal);
        Assert.Contains("CUDA device 1", second.Source, StringComparison.Ordinal);
        Assert.Null(odd.Bytes);
    }

    [Fact]
    public void ThisMachinesOwnFilesGiveAFigure()
    {
        var host = SystemMemory.Host.Available("cpu");

        Assert.True(host.Bytes > 0, host.Source);
    }
}
