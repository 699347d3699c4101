namespace Glance.Api.Scheduling;

/// <summary>What the policy needs to know about one request, running or waiting.</summary>
/// <param name="Id">Unique, increasing in arrival order (breaks ties: older first).</param>
/// <param name="LastProgressAt">When the request last made progress: its arrival while waiting, its last step once running.</param>
internal readonly record struct BatchCandidate(long Id, int Width, int Height, long LastProgressAt);

internal readonly record struct BatchLimits(int MaxBatchSize, int MaxRunning)
{
    /// <summary>Lower batch caps for resolutions where a larger batch ran out of device memory (<see cref="MemoryBatchCaps"/>).</summary>
    public IReadOnlyDictionary<(int Width, int Height), int>? MemoryCaps { get; init; }

    /// <summary>The most requests one step may hold at this resolution.</summary>
    public int BatchSizeAt(int width, int height) =>
        MemoryCaps is not null && MemoryCaps.TryGetValue((width, height), out int cap) ? Math.Min(cap, MaxBatchSize) : MaxBatchSize;
}

/// <summary>The worker's next move: start <see cref="Admit"/>, then run one step over <see cref="Step"/>.</summary>
/// <param name="Admit">Waiting requests to start now.</param>
/// <param name="Step">Requests in the next engine step: running ones and those just admitted, all of one resolution.</param>
internal sealed record BatchDecision(IReadOnlyList<long> Admit, IReadOnlyList<long> Step)
{
    public static BatchDecision Idle { get; } = new([], []);

    public bool IsIdle => Step.Count == 0;
}

/// <summary>
/// Chooses the next batch. Requests only share a step at one resolution, so the policy picks a resolution
/// group, then fills the batch from it. The group chosen is the one holding the request that has gone
/// longest without progress (older arrival on ties), counting only requests that could take part now; a group
/// that did not step grows more overdue each time another does, so every group gets its turn and none
/// starves. Within the group, the running requests and then the waiting ones are taken longest-waiting first, up to
/// the group's batch size (<see cref="BatchLimits.BatchSizeAt"/>).
/// </summary>
internal static class BatchPolicy
{
    public static BatchDecision Plan(
        IReadOnlyList<BatchCandidate> running,
        IReadOnlyList<BatchCandidate> waiting,
        BatchLimits limits)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(waiting);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxRunning, limits.MaxBatchSize);

        int freeSlots = Math.Max(0, limits.MaxRunning - running.Count);
        GroupPlan? best = null;
        foreach ((int width, int height) in running.Concat(waiting).Select(c => (c.Width, c.Height)).Distinct())
        {
            GroupPlan? plan = PlanGroup(running, waiting, width, height, limits.BatchSizeAt(width, height), freeSlots);
            if (plan is not null && (best is null || IsMoreOverdue(plan.MostOverdue, best.MostOverdue)))
                best = plan;
        }
        if (best is null) return BatchDecision.Idle;
        return new BatchDecision(
            [.. best.Admit.Select(c => c.Id)],
            [.. best.Stepping.Concat(best.Admit).Select(c => c.Id)]);
    }

    static GroupPlan? PlanGroup(
        IReadOnlyList<BatchCandidate> running,
        IReadOnlyList<BatchCandidate> waiting,
        int width,
        int height,
        int maxBatchSize,
        int freeSlots)
    {
        List<BatchCandidate> stepping = [.. InGroup(running, width, height).Take(maxBatchSize)];
        int admissible = Math.Min(maxBatchSize - stepping.Count, freeSlots);
        List<BatchCandidate> admit = [.. InGroup(waiting, width, height).Take(admissible)];
        if (stepping.Count + admit.Count == 0) return null;
        BatchCandidate mostOverdue = stepping.Concat(admit).Aggregate((a, b) => IsMoreOverdue(a, b) ? a : b);
        return new GroupPlan(stepping, admit, mostOverdue);
    }

    static IEnumerable<BatchCandidate> InGroup(IEnumerable<BatchCandidate> candidates, int width, int height) =>
        candidates
            .Where(c => c.Width == width && c.Height == height)
            .OrderBy(c => c.LastProgressAt)
            .ThenBy(c => c.Id);

    static bool IsMoreOverdue(BatchCandidate a, BatchCandidate b) =>
        a.LastProgressAt < b.LastProgressAt || (a.LastProgressAt == b.LastProgressAt && a.Id < b.Id);

    sealed record GroupPlan(List<BatchCandidate> Stepping, List<BatchCandidate> Admit, BatchCandidate MostOverdue);
}
