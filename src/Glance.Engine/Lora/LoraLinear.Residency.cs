using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>
/// Moving an adapter's pieces between the host and the layer's device. The first offload makes a host copy that is
/// kept until the adapter is detached: adapters served from files never change, so later evictions just drop the
/// device copy (no device-to-host transfer) and loads copy from the host again, asynchronously when it is pinned.
/// </summary>
public sealed partial class LoraLinear
{
    readonly Dictionary<string, List<LoraPiece>> _hostCopies = new(StringComparer.Ordinal);
    readonly HashSet<string> _offloaded = new(StringComparer.Ordinal);

    /// <summary>Whether the adapter's pieces are on the host rather than on the layer's device.</summary>
    public bool IsOffloaded(string adapter) => _offloaded.Contains(adapter);

    /// <summary>Whether a merged weight of the adapter is cached (see <see cref="CacheMergedWeights"/>).</summary>
    public bool HasMergedWeight(string adapter) => _mergedWeights.ContainsKey(adapter);

    /// <summary>Drops the adapter's cached merged weight, if any; the next batch that routes to it builds it again.</summary>
    public void DropMergedWeight(string adapter)
    {
        if (_mergedWeights.Remove(adapter, out var cached)) cached.Dispose();
    }

    /// <summary>
    /// Puts the adapter's pieces on the host (a kept copy, page-locked when <paramref name="pin"/>) and frees their
    /// device copy and cached merged weight. Routing must not send rows to it until <see cref="LoadAdapter"/>.
    /// </summary>
    public void OffloadAdapter(string adapter, bool pin)
    {
        if (_offloaded.Contains(adapter) || !_adapters.TryGetValue(adapter, out var pieces)) return;
        if (_merged.Contains(adapter))
            throw new InvalidOperationException($"Adapter '{adapter}' is merged into the weight; unmerge it before offloading it.");
        if (pieces.Any(p => p.Down.requires_grad || p.Up.requires_grad))
            throw new InvalidOperationException($"Adapter '{adapter}' is being trained; its pieces cannot leave the device.");
        if (!_hostCopies.TryGetValue(adapter, out var host))
        {
            host = [.. pieces.Select(p => p with { Down = HostCopy(p.Down, pin), Up = HostCopy(p.Up, pin) })];
            _hostCopies[adapter] = host;
        }
        DropMergedWeight(adapter);
        foreach (var piece in pieces)
        {
            piece.Down.Dispose();
            piece.Up.Dispose();
        }
        _adapters[adapter] = [.. host];
        _offloaded.Add(adapter);
    }

    /// <summary>
    /// Copies an offloaded adapter's pieces back to the layer's device; with <paramref name="nonBlocking"/> (pinned host
    /// copies) the copies are queued on the device's stream ahead of the step that uses them. The host copy is kept.
    /// </summary>
    public void LoadAdapter(string adapter, bool nonBlocking)
    {
        if (!_offloaded.Remove(adapter)) return;
        var device = weight.device;
        _adapters[adapter] = [.. _hostCopies[adapter].Select(p => p with { Down = DeviceCopy(p.Down, device, nonBlocking), Up = DeviceCopy(p.Up, device, nonBlocking) })];
    }

    static Tensor HostCopy(Tensor tensor, bool pin)
    {
        var host = tensor.to(CPU, copy: true).DetachFromDisposeScope();
        if (!pin) return host;
        using (host) return host.pin_memory().DetachFromDisposeScope();
    }

    static Tensor DeviceCopy(Tensor tensor, Device device, bool nonBlocking) =>
        tensor.to(device, copy: true, non_blocking: nonBlocking).DetachFromDisposeScope();

    /// <summary>Disposes the host copy of a removed adapter, unless it was the adapter's pieces (disposed already).</summary>
    void ReleaseHostCopy(string adapter)
    {
        bool wasOffloaded = _offloaded.Remove(adapter);
        if (!_hostCopies.Remove(adapter, out var host) || wasOffloaded) return;
        foreach (var piece in host)
        {
            piece.Down.Dispose();
            piece.Up.Dispose();
        }
    }
}
