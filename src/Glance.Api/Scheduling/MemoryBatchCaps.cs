namespace Glance.Api.Scheduling;

/// <summary>
/// Batch sizes the device has shown it cannot hold, per resolution: when an engine call over N requests at one
/// resolution runs out of memory, batches at that resolution are capped at N / 2 (at least 1) from then on, never
/// raised again in the process's life. Glance:Batching:MaxBatchSize stays the cap everywhere else; the log says which
/// value to set so that no request pays for a failed attempt.
/// </summary>
internal sealed class MemoryBatchCaps
{
    readonly Dictionary<(int Width, int Height), int> caps = [];

    public IReadOnlyDictionary<(int Width, int Height), int> Caps => caps;

    /// <summary>Records that <paramref name="batchSize"/> requests at this resolution ran out of memory; returns the cap now in force there.</summary>
    public int RanOutAt(int width, int height, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int cap = Math.Max(1, batchSize / 2);
        if (caps.TryGetValue((width, height), out int current)) cap = Math.Min(cap, current);
        caps[(width, height)] = cap;
        return cap;
    }
}
