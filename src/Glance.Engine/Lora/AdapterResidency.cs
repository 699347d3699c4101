namespace Glance.Engine.Lora;

/// <summary>
/// Which adapters stay on the model's device under a memory budget, least recently used evicted to the host first.
/// Pure bookkeeping (names and byte counts, no tensors): <see cref="ResidentAdapters"/> moves the tensors as it says.
/// A budget of null or 0 means unlimited: every adapter is resident and no plan moves anything.
/// </summary>
public sealed class AdapterResidency
{
    sealed class Entry(long bytes, bool resident, long lastUse)
    {
        public long Bytes { get; } = bytes;
        public bool Resident { get; set; } = resident;
        public long LastUse { get; set; } = lastUse;
    }

    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    long _tick;

    public AdapterResidency(long? budgetBytes)
    {
        if (budgetBytes < 0)
            throw new ArgumentOutOfRangeException(nameof(budgetBytes), budgetBytes, "expected a budget of at least 0 bytes (0 or null: unlimited)");
        BudgetBytes = budgetBytes is null or 0 ? null : budgetBytes;
    }

    /// <summary>Bytes the resident adapters may take together; null: unlimited.</summary>
    public long? BudgetBytes { get; }

    public bool IsUnlimited => BudgetBytes is null;

    /// <summary>Bytes of the adapters now resident.</summary>
    public long ResidentBytes { get; private set; }

    public IReadOnlyCollection<string> Tracked => _entries.Keys;

    public bool IsTracked(string name) => _entries.ContainsKey(name);

    /// <summary>Whether a tracked adapter is on the device (an adapter this policy does not track is, as far as it knows).</summary>
    public bool IsResident(string name) => !_entries.TryGetValue(name, out var entry) || entry.Resident;

    public long BytesOf(string name) => _entries.TryGetValue(name, out var entry) ? entry.Bytes : 0;

    /// <summary>
    /// Tracks a newly attached adapter: resident when it fits beside the adapters already resident, else offloaded. It
    /// never evicts, so attaching cannot take away an adapter that running requests use; the first step that needs it
    /// brings it in. Counts as just used, so that a freshly loaded adapter is not the first one evicted.
    /// </summary>
    /// <returns>Whether it is resident.</returns>
    public bool Admit(string name, long bytes)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "expected an adapter size of at least 0 bytes");
        if (_entries.ContainsKey(name)) throw new InvalidOperationException($"Adapter '{name}' is already tracked; forget it before admitting it again.");
        bool resident = BudgetBytes is not { } budget || ResidentBytes + bytes <= budget;
        _entries[name] = new Entry(bytes, resident, ++_tick);
        if (resident) ResidentBytes += bytes;
        return resident;
    }

    /// <summary>Stops tracking a detached adapter; false when it was not tracked.</summary>
    public bool Forget(string name)
    {
        if (!_entries.Remove(name, out var entry)) return false;
        if (entry.Resident) ResidentBytes -= entry.Bytes;
        return true;
    }

    /// <summary>
    /// What to move so that the next step has every adapter it needs on the device: the needed ones that are offloaded
    /// are loaded, and resident ones the step does not need are evicted, least recently used first, until the resident
    /// bytes fit the budget again. When the needed adapters alone exceed the budget they are all loaded anyway (the step
    /// must run), everything else is evicted, and the plan says so. Names this policy does not track are ignored.
    /// Changes nothing: <see cref="Commit"/> records the plan once it has been carried out.
    /// </summary>
    public ResidencyPlan Plan(IEnumerable<string> needed)
    {
        ArgumentNullException.ThrowIfNull(needed);
        string[] names = [.. needed.Where(_entries.ContainsKey).Distinct(StringComparer.Ordinal)];
        long neededBytes = names.Sum(name => _entries[name].Bytes);
        string[] load = [.. names.Where(name => !_entries[name].Resident)];
        if (BudgetBytes is not { } budget) return new ResidencyPlan(names, load, [], false, neededBytes);

        long residentAfter = ResidentBytes + load.Sum(name => _entries[name].Bytes);
        var evict = new List<string>();
        var neededSet = names.ToHashSet(StringComparer.Ordinal);
        foreach (var (name, entry) in _entries
                     .Where(e => e.Value.Resident && !neededSet.Contains(e.Key))
                     .OrderBy(e => e.Value.LastUse)
                     .ThenBy(e => e.Key, StringComparer.Ordinal))
        {
            if (residentAfter <= budget) break;
            evict.Add(name);
            residentAfter -= entry.Bytes;
        }
        return new ResidencyPlan(names, load, evict, neededBytes > budget, neededBytes);
    }

    /// <summary>Records a carried-out plan: its loads resident, its evictions offloaded, its needed adapters just used.</summary>
    public void Commit(ResidencyPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        foreach (string name in plan.Evict) SetResident(name, false);
        foreach (string name in plan.Load) SetResident(name, true);
        Touch(plan.Needed);
    }

    /// <summary>Records one move (the caller records each as it happens, so that a failed move leaves the books right).</summary>
    public void SetResident(string name, bool resident)
    {
        if (!_entries.TryGetValue(name, out var entry) || entry.Resident == resident) return;
        entry.Resident = resident;
        ResidentBytes += resident ? entry.Bytes : -entry.Bytes;
    }

    /// <summary>Marks adapters as used by the step now running (one tick for all of them).</summary>
    public void Touch(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        long tick = ++_tick;
        foreach (string name in names)
            if (_entries.TryGetValue(name, out var entry)) entry.LastUse = tick;
    }
}

/// <summary>A step's residency moves.</summary>
/// <param name="Needed">The tracked adapters the step routes to.</param>
/// <param name="Load">Needed adapters now offloaded, to bring to the device.</param>
/// <param name="Evict">Resident adapters the step does not need, to move to the host, least recently used first.</param>
/// <param name="OverBudget">Whether the needed adapters alone take more than the budget (they are loaded all the same).</param>
/// <param name="NeededBytes">Bytes of the needed adapters.</param>
public sealed record ResidencyPlan(IReadOnlyList<string> Needed, IReadOnlyList<string> Load, IReadOnlyList<string> Evict, bool OverBudget, long NeededBytes)
{
    public bool MovesNothing => Load.Count == 0 && Evict.Count == 0;
}
