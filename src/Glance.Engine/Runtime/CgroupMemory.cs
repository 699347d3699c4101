using System.Globalization;

namespace Glance.Engine.Runtime;

/// <summary>
/// How much more memory this process may take before its cgroup's limit gets it OOM-killed (a Kubernetes container's
/// limit, docker --memory, a systemd slice's MemoryMax). At every level from the process's own cgroup up to the mount
/// that sets a limit: the limit less the usage that cannot be reclaimed, i.e. usage less the inactive file cache (as the
/// kubelet counts a working set: cached file pages, such as a checkpoint read before, are dropped before anything is
/// killed). The smallest headroom wins.
/// </summary>
public static class CgroupMemory
{
    /// <summary>cgroup v1 writes "no limit" as the page counter's maximum (9223372036854771712 with 4 KiB pages).</summary>
    const long V1Unlimited = 1L << 62;

    /// <param name="Bytes">Headroom (0 when the cgroup is already at its limit).</param>
    /// <param name="Source">The limit's file, the limit and the usage, for messages.</param>
    public sealed record Headroom(long Bytes, string Source);

    /// <param name="root">The cgroup mount, normally /sys/fs/cgroup: cgroup v2 (unified) when it holds cgroup.controllers, else v1 with the memory controller under memory/.</param>
    /// <param name="selfCgroup">The text of /proc/self/cgroup (null when unreadable): where this process sits below the mount.
    /// In a container the mount often is the container's own cgroup already, and the path it names does not exist below it.</param>
    /// <returns>The tightest headroom, or null when no level sets a limit (or there are no cgroup files).</returns>
    public static Headroom? Read(string root, string? selfCgroup)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (File.Exists(Path.Combine(root, "cgroup.controllers")))
            return Tightest(root, Membership(selfCgroup, line => line.StartsWith("0::", StringComparison.Ordinal)), V2);
        string v1 = Path.Combine(root, "memory");
        return Directory.Exists(v1)
            ? Tightest(v1, Membership(selfCgroup, line => line.Split(':') is [_, var controllers, _] && controllers.Split(',').Contains("memory")), V1)
            : null;
    }

    /// <summary>The cgroup path of the first matching /proc/self/cgroup line ("ID:controllers:/path").</summary>
    static string Membership(string? selfCgroup, Func<string, bool> matches)
    {
        string? line = selfCgroup?.Split('\n').FirstOrDefault(matches);
        return line is null ? "/" : line[(line.IndexOf(':', line.IndexOf(':', StringComparison.Ordinal) + 1) + 1)..].Trim();
    }

    static Headroom? Tightest(string mount, string relative, Func<string, Headroom?> level)
    {
        string top = Path.TrimEndingDirectorySeparator(Path.GetFullPath(mount));
        bool Inside(string? directory) => directory is not null && (directory == top || directory.StartsWith(top + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        string own = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(top, relative.TrimStart('/'))));
        Headroom? tightest = null;
        for (string? directory = Inside(own) && Directory.Exists(own) ? own : top; Inside(directory); directory = Path.GetDirectoryName(directory))
        {
            if (level(directory!) is { } headroom && (tightest is null || headroom.Bytes < tightest.Bytes)) tightest = headroom;
        }
        return tightest;
    }

    static Headroom? V2(string directory)
    {
        string limitFile = Path.Combine(directory, "memory.max");
        // "max" (or no file, as at the root) is no limit.
        if (Number(limitFile) is not { } limit) return null;
        long usage = Number(Path.Combine(directory, "memory.current")) ?? 0;
        long cache = Stat(directory, "inactive_file") ?? 0;
        return Of(limit, usage, cache, limitFile, "memory.current");
    }

    static Headroom? V1(string directory)
    {
        string limitFile = Path.Combine(directory, "memory.limit_in_bytes");
        if (Number(limitFile) is not { } limit || limit >= V1Unlimited) return null;
        long usage = Number(Path.Combine(directory, "memory.usage_in_bytes")) ?? 0;
        long cache = Stat(directory, "total_inactive_file") ?? Stat(directory, "inactive_file") ?? 0;
        return Of(limit, usage, cache, limitFile, "memory.usage_in_bytes");
    }

    static Headroom Of(long limit, long usage, long inactiveFileCache, string limitFile, string usageFile)
    {
        long inUse = Math.Max(0, usage - inactiveFileCache);
        return new Headroom(Math.Max(0, limit - inUse),
            $"cgroup limit {limitFile} = {ByteSize.Format(limit)}, less {ByteSize.Format(inUse)} in use ({usageFile} less inactive file cache)");
    }

    static long? Number(string file) =>
        KernelFiles.Text(file) is { } text && long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;

    static long? Stat(string directory, string key)
    {
        foreach (string line in (KernelFiles.Text(Path.Combine(directory, "memory.stat")) ?? "").Split('\n'))
        {
            if (line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var name, var value] && name == key
                && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long bytes)) return bytes;
        }
        return null;
    }
}
