using Glance.Engine.Serving;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>
/// Keeps a model's adapters on its device within a byte budget (<see cref="AdapterResidency"/> decides, this moves the
/// tensors): before each step the adapters the step routes to are brought in and the least recently used others go to
/// the host, with their cached merged weights, which are device memory too. Manages the adapters attached from files
/// (<see cref="Track"/>); others (trainable ones) always stay on the device, outside the budget.
/// <para>
/// On a CPU device the host and the device are the same memory: no pieces move (a copy would only cost time), but the
/// books are kept and merged weights of evicted adapters are dropped all the same, so that the budget bounds that memory
/// and the policy's decisions can be observed on any device.
/// </para>
/// Loading costs one host-to-device copy of the adapter's low-rank tensors ahead of the step that needs it (queued
/// asynchronously from pinned memory on CUDA), so a load delays only that one step. Engine thread only.
/// </summary>
public sealed class ResidentAdapters
{
    readonly nn.Module _denoiser;
    readonly AdapterResidency _policy;
    readonly bool _pin;
    LoraLinear[]? _layers;

    public ResidentAdapters(nn.Module denoiser, Device device, long? budgetBytes)
    {
        _denoiser = denoiser ?? throw new ArgumentNullException(nameof(denoiser));
        ArgumentNullException.ThrowIfNull(device);
        _policy = new AdapterResidency(budgetBytes);
        MovesPieces = device.type != DeviceType.CPU && !_policy.IsUnlimited;
        _pin = device.type == DeviceType.CUDA;
        Counters = new AdapterResidencyCounters(_policy.BudgetBytes);
    }

    public AdapterResidencyCounters Counters { get; }

    public long? BudgetBytes => _policy.BudgetBytes;

    /// <summary>Whether pieces really move between host and device (a non-CPU device with a budget); settable for tests on the CPU.</summary>
    internal bool MovesPieces { get; set; }

    LoraLinear[] Layers => _layers ??= [.. LoraLayers.Of(_denoiser).Values];

    public bool IsTracked(string adapter) => _policy.IsTracked(adapter);

    public bool IsResident(string adapter) => _policy.IsResident(adapter);

    /// <summary>Bytes of the adapter's low-rank tensors (tracked or not).</summary>
    public long BytesOf(string adapter) => _policy.IsTracked(adapter) ? _policy.BytesOf(adapter) : PieceBytes(adapter);

    /// <summary>
    /// Follows the model's file adapters (in attach order): new ones are admitted (resident when they fit beside the
    /// resident ones, else offloaded; never evicting), gone ones forgotten.
    /// </summary>
    public void Track(IReadOnlyCollection<string> attached)
    {
        ArgumentNullException.ThrowIfNull(attached);
        bool changed = false;
        foreach (string gone in _policy.Tracked.Except(attached, StringComparer.Ordinal).ToArray())
            changed |= _policy.Forget(gone);
        foreach (string adapter in attached.Where(a => !_policy.IsTracked(a)))
        {
            if (!_policy.Admit(adapter, PieceBytes(adapter))) Offload(adapter);
            changed = true;
        }
        if (changed) Publish();
    }

    /// <summary>Carries out the plan for a step routing to <paramref name="routed"/> (null: base weights): evictions first, to free room.</summary>
    public void Prepare(IEnumerable<string?> routed)
    {
        ArgumentNullException.ThrowIfNull(routed);
        if (_policy.IsUnlimited) return;
        var plan = _policy.Plan(routed.OfType<string>());
        if (plan.OverBudget) Counters.ReportOverBudget(plan.NeededBytes, _policy.BudgetBytes!.Value);
        foreach (string adapter in plan.Evict)
        {
            Offload(adapter);
            _policy.SetResident(adapter, false);
            Counters.CountEviction();
        }
        foreach (string adapter in plan.Load)
        {
            if (MovesPieces)
                foreach (var layer in Layers) layer.LoadAdapter(adapter, nonBlocking: _pin);
            _policy.SetResident(adapter, true);
            Counters.CountLoad();
        }
        _policy.Touch(plan.Needed);
        if (!plan.MovesNothing) Publish();
    }

    void Offload(string adapter)
    {
        foreach (var layer in Layers)
        {
            if (MovesPieces) layer.OffloadAdapter(adapter, _pin);
            else layer.DropMergedWeight(adapter);
        }
    }

    long PieceBytes(string adapter) =>
        Layers.Sum(layer => layer.PiecesOf(adapter).Sum(p => p.Down.numel() * p.Down.ElementSize + p.Up.numel() * p.Up.ElementSize));

    void Publish() => Counters.Publish(_policy.ResidentBytes, _policy.Tracked.Where(a => !_policy.IsResident(a)));
}
