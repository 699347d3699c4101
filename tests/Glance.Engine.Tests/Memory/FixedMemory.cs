using Glance.Engine.Runtime;

namespace Glance.Engine.Tests.Memory;

/// <summary>Fixed figures per device; devices not given are "not known".</summary>
public sealed class FixedMemory(IReadOnlyDictionary<string, AvailableMemory> devices) : IMemoryAvailability
{
    public static FixedMemory Host(long bytes, string source = "MemAvailable in /fake/meminfo") =>
        new(new Dictionary<string, AvailableMemory> { ["cpu"] = new(bytes, source) });

    public List<string> Asked { get; } = [];

    public AvailableMemory Available(string device)
    {
        Asked.Add(device);
        return devices.TryGetValue(device, out var available) ? available : new AvailableMemory(null, "not checked: unknown in this test");
    }
}
