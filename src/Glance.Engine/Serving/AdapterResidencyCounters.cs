using System.Collections.Frozen;

namespace Glance.Engine.Serving;

/// <summary>
/// An engine's adapter residency as other threads see it (for /metrics and /v1/adapters): bytes on the device, moves
/// so far, and which adapters are offloaded now. The engine thread writes; any thread may read.
/// </summary>
public sealed class AdapterResidencyCounters
{
    long _residentBytes;
    long _evictions;
    long _loads;
    int _overBudgetReported;
    FrozenSet<string> _offloaded = FrozenSet<string>.Empty;

    public AdapterResidencyCounters(long? budgetBytes) => BudgetBytes = budgetBytes;

    /// <summary>The configured budget in bytes; null: unlimited.</summary>
    public long? BudgetBytes { get; }

    /// <summary>Bytes of the adapters on the model's device.</summary>
    public long ResidentBytes => Interlocked.Read(ref _residentBytes);

    /// <summary>Adapters moved off the device to make room, since the engine started.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Offloaded adapters brought back to the device for a step, since the engine started.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>Whether an adapter is on the model's device (one the engine does not manage always is).</summary>
    public bool IsResident(string adapter) => !Volatile.Read(ref _offloaded).Contains(adapter);

    /// <summary>
    /// Raised once, on the engine thread, the first time a step needs more adapter bytes than the budget (the step runs
    /// all the same, over the budget); later such steps are not reported again.
    /// </summary>
    public event EventHandler<AdapterBudgetExceededEventArgs>? BudgetExceeded;

    internal void Publish(long residentBytes, IEnumerable<string> offloaded)
    {
        Interlocked.Exchange(ref _residentBytes, residentBytes);
        Volatile.Write(ref _offloaded, offloaded.ToFrozenSet(StringComparer.Ordinal));
    }

    internal void CountEviction() => Interlocked.Increment(ref _evictions);

    internal void CountLoad() => Interlocked.Increment(ref _loads);

    internal void ReportOverBudget(long neededBytes, long budgetBytes)
    {
        if (Interlocked.Exchange(ref _overBudgetReported, 1) == 0)
            BudgetExceeded?.Invoke(this, new AdapterBudgetExceededEventArgs(neededBytes, budgetBytes));
    }
}

/// <summary>A step needed <see cref="NeededBytes"/> of adapters on the device, more than the <see cref="BudgetBytes"/> allowed.</summary>
public sealed class AdapterBudgetExceededEventArgs(long neededBytes, long budgetBytes) : EventArgs
{
    public long NeededBytes { get; } = neededBytes;
    public long BudgetBytes { get; } = budgetBytes;
}
