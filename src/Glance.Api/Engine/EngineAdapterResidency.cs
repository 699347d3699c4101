using Glance.Engine.Serving;

namespace Glance.Api.Engine;

/// <summary>
/// The loaded engine's adapter residency, for readers on other threads (/metrics, /v1/adapters): set by the engine
/// factory once the engine exists; null before then and for engines that keep no residency.
/// </summary>
internal sealed class EngineAdapterResidency
{
    AdapterResidencyCounters? _counters;

    public AdapterResidencyCounters? Counters
    {
        get => Volatile.Read(ref _counters);
        set => Volatile.Write(ref _counters, value);
    }
}
