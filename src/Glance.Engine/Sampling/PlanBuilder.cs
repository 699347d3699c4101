namespace Glance.Engine.Sampling;

/// <summary>Builds sampling plans from a base schedule; pure functions.</summary>
public static class PlanBuilder
{
    public const string SlowPhase = "slow";
    public const string FastPhase = "fast";
    public const string BasePhase = "base";

    /// <summary>Glance: base indices 0, 2, 4, 6, 8 of a 50-step schedule with the Slow adapter (2x over the first 10 steps).</summary>
    public static readonly IReadOnlyList<int> GlanceSlowIndices = [0, 2, 4, 6, 8];

    /// <summary>Glance: base indices 10, 20, 30, 40, 49 with the Fast adapter (8x over the last 40 steps).</summary>
    public static readonly IReadOnlyList<int> GlanceFastIndices = [10, 20, 30, 40, 49];

    public const int GlanceBaseSteps = 50;

    /// <summary>The Glance plan over the preset's 50-step schedule for an image of this many packed tokens; null adapters run the phases on the base weights.</summary>
    public static SamplingPlan Glance(FlowMatchScheduleConfig schedule, int imageSeqLen, string? slowAdapter = SlowPhase, string? fastAdapter = FastPhase)
    {
        double[] baseSigmas = FlowMatchSchedule.Sigmas(GlanceBaseSteps, schedule, imageSeqLen);
        return FromIndices(baseSigmas,
            (SlowPhase, slowAdapter, GlanceSlowIndices),
            (FastPhase, fastAdapter, GlanceFastIndices));
    }

    /// <summary>Plain N-step sampling with the base weights (no adapter).</summary>
    public static SamplingPlan Base(FlowMatchScheduleConfig schedule, int imageSeqLen, int steps) =>
        new([new PlanPhase(BasePhase, null, FlowMatchSchedule.Sigmas(steps, schedule, imageSeqLen))]);

    /// <summary>A custom plan: each phase evaluates the model at the given indices of a base schedule.</summary>
    public static SamplingPlan FromIndices(IReadOnlyList<double> baseSigmas, params (string Name, string? Adapter, IReadOnlyList<int> Indices)[] phases)
    {
        ArgumentNullException.ThrowIfNull(baseSigmas);
        ArgumentNullException.ThrowIfNull(phases);
        var built = new List<PlanPhase>(phases.Length);
        foreach (var (name, adapter, indices) in phases)
        {
            foreach (int index in indices)
            {
                if (index < 0 || index >= baseSigmas.Count)
                    throw new ArgumentOutOfRangeException(nameof(phases), index, $"Phase '{name}' uses base index {index}; the base schedule has {baseSigmas.Count} steps (0..{baseSigmas.Count - 1}).");
            }
            built.Add(new PlanPhase(name, adapter, indices.Select(i => baseSigmas[i]).ToArray()));
        }
        return new SamplingPlan(built);
    }
}
