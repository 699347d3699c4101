using Glance.Engine.Serving;

namespace Glance.Engine.Sampling;

/// <summary>A run of consecutive steps sharing one adapter; the model is evaluated at each of its sigmas.</summary>
public sealed record PlanPhase(string Name, string? Adapter, IReadOnlyList<double> Sigmas)
{
    /// <summary>The timesteps the model sees: 1000 * sigma.</summary>
    public IEnumerable<double> Timesteps => Sigmas.Select(s => 1000.0 * s);
}

/// <summary>
/// Phases over ONE sigma sequence. Each step moves from its sigma to the next sigma of the plan (across
/// phase boundaries) and the last step moves to 0, so the sigma increments add up to the first sigma (1).
/// </summary>
public sealed record SamplingPlan
{
    public SamplingPlan(IReadOnlyList<PlanPhase> phases)
    {
        ArgumentNullException.ThrowIfNull(phases);
        if (phases.Count == 0 || phases.Any(p => p.Sigmas.Count == 0))
            throw new ArgumentException("A plan needs at least one phase and every phase at least one sigma.", nameof(phases));
        var all = phases.SelectMany(p => p.Sigmas).ToArray();
        for (int i = 1; i < all.Length; i++)
        {
            if (!(all[i] < all[i - 1]))
                throw new ArgumentException($"Plan sigmas must decrease strictly; sigma {i} is {all[i]} after {all[i - 1]}.", nameof(phases));
        }
        if (all[^1] <= 0 || all[0] > 1)
            throw new ArgumentException($"Plan sigmas must lie in (0, 1]; received {all[0]} .. {all[^1]}.", nameof(phases));
        Phases = phases;
    }

    public IReadOnlyList<PlanPhase> Phases { get; }

    /// <summary>Every step in order, each with the sigma it moves to.</summary>
    public IReadOnlyList<PlannedStep> Steps()
    {
        var flat = Phases.SelectMany(p => p.Sigmas.Select(s => (phase: p, sigma: s))).ToArray();
        var steps = new PlannedStep[flat.Length];
        for (int i = 0; i < flat.Length; i++)
        {
            double next = i + 1 < flat.Length ? flat[i + 1].sigma : 0.0;
            steps[i] = new PlannedStep(flat[i].phase.Name, flat[i].phase.Adapter, flat[i].sigma, next);
        }
        return steps;
    }

    public int StepCount => Phases.Sum(p => p.Sigmas.Count);
}
