using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>
/// Which samples of the batch being run use which adapter. One instance is shared by every
/// <see cref="LoraLinear"/> of a model; the model's owner sets it around each forward pass, so that one
/// batch can mix samples with no adapter, the Slow adapter and the Fast adapter.
/// </summary>
public sealed class AdapterRouting
{
    readonly Dictionary<string, Tensor> _samplesByAdapter = new(StringComparer.Ordinal);
    long _batchSize;

    /// <summary>Adapters active in the current forward, each with the batch rows that use it.</summary>
    public IReadOnlyDictionary<string, Tensor> SamplesByAdapter => _samplesByAdapter;

    /// <summary>Rows in the current batch; an adapter whose index tensor has this many rows covers the whole batch.</summary>
    public long BatchSize => _batchSize;

    /// <summary>
    /// Routes each batch row to its adapter (null: base weights only) until the returned scope is disposed.
    /// </summary>
    public IDisposable Route(IReadOnlyList<string?> adapterPerSample, Device device)
    {
        ArgumentNullException.ThrowIfNull(adapterPerSample);
        Clear();
        _batchSize = adapterPerSample.Count;
        foreach (var group in adapterPerSample
                     .Select((name, row) => (name, row))
                     .Where(x => x.name is not null)
                     .GroupBy(x => x.name!, StringComparer.Ordinal))
        {
            long[] rows = group.Select(x => (long)x.row).ToArray();
            _samplesByAdapter[group.Key] = tensor(rows, dtype: ScalarType.Int64, device: device);
        }
        return new RouteScope(this);
    }

    void Clear()
    {
        foreach (var rows in _samplesByAdapter.Values) rows.Dispose();
        _samplesByAdapter.Clear();
        _batchSize = 0;
    }

    sealed class RouteScope(AdapterRouting owner) : IDisposable
    {
        bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            owner.Clear();
        }
    }
}
