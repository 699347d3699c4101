using Glance.Engine.Lora;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;

namespace Glance.Engine.Pipeline;

/// <summary>The engine's side of adapter residency (see <see cref="ResidentAdapters"/>).</summary>
public sealed partial class TorchGlanceEngine
{
    readonly ResidentAdapters _residency;

    /// <summary>Resident adapter bytes, evictions and which adapters are offloaded, readable from any thread.</summary>
    public AdapterResidencyCounters AdapterResidency => _residency.Counters;

    /// <summary>The residency manager (a test seam).</summary>
    internal ResidentAdapters Residency => _residency;

    /// <summary>
    /// Brings the residency books in line with the model's file adapters, whoever attached or detached them (the default
    /// set's before the engine existed, the sets' through this engine); trainable adapters are left out.
    /// </summary>
    void TrackAdapters() =>
        _residency.Track([.. Model.Adapters.Where(Model.AttachedAdapters.ContainsKey)]);

    /// <summary>Before a step: the adapters it routes to on the device, room made by evicting the least recently used.</summary>
    void PrepareAdapters(IEnumerable<string?> routed)
    {
        TrackAdapters();
        _residency.Prepare(routed);
    }

    AdapterResidencyInfo? ResidencyOf(string set)
    {
        string[] adapters = [.. new[] { PlanBuilder.SlowPhase, PlanBuilder.FastPhase }
            .Select(phase => Serving.AdapterSets.AdapterName(set, phase))
            .Where(Model.Adapters.Contains)];
        return adapters.Length == 0 ? null
            : new AdapterResidencyInfo(adapters.All(_residency.IsResident), adapters.Sum(_residency.BytesOf));
    }
}
