namespace Glance.Engine.Runtime;

/// <summary>Memory a device can still give a model, and where that figure comes from.</summary>
/// <param name="Bytes">Null when it cannot be known here (then <paramref name="Source"/> says why and nothing is checked).</param>
/// <param name="Source">E.g. "MemAvailable in /proc/meminfo", or the cgroup limit that binds.</param>
public sealed record AvailableMemory(long? Bytes, string Source);

/// <summary>Says how much memory a device ("cpu", "cuda", "cuda:N") has left; injectable so that tests need no real machine state.</summary>
public interface IMemoryAvailability
{
    AvailableMemory Available(string device);
}
