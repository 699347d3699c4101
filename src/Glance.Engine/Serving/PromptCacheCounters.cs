namespace Glance.Engine.Serving;

/// <summary>
/// Lookups in an engine's prompt-encoding cache: one per distinct prompt text of a Start call (a text repeated within
/// one call is encoded once and looked up once). The engine thread counts; any thread may read, e.g. for /metrics.
/// </summary>
public sealed class PromptCacheCounters
{
    long _hits;
    long _misses;

    /// <summary>Texts found in the cache: the text encoders did not run for them.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Texts not in the cache: encoded, then cached.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    internal void CountHit() => Interlocked.Increment(ref _hits);

    internal void CountMiss() => Interlocked.Increment(ref _misses);
}
