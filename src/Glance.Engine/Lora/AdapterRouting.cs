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
    readonly List<AdapterRun> _runs = [];
    long _batchSize;

    /// <summary>Adapters active in the current forward, each with the batch rows that use it.</summary>
    public IReadOnlyDictionary<string, Tensor> SamplesByAdapter => _samplesByAdapter;

    /// <summary>
    /// The batch as maximal runs of consecutive rows sharing one adapter (null: none), in row order. A layer with
    /// cached merged weights runs one matmul per run, so callers that group rows by adapter get few, large matmuls.
    /// </summary>
    public IReadOnlyList<AdapterRun> Runs => _runs;

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
        for (int row = 0; row < adapterPerSample.Count; row++)
        {
            string? adapter = adapterPerSample[row];
            if (_runs.Count > 0 && string.Equals(_runs[^1].Adapter, adapter, StringComparison.Ordinal))
                _runs[^1] = _runs[^1] with { Length = _runs[^1].Length + 1 };
            else
                _runs.Add(new AdapterRun(adapter, row, 1));
        }
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
        _runs.Clear();
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

/// <summary>Rows [Start, Start + Length) of a batch, all routed to one adapter (null: base weights only).</summary>
public readonly record struct AdapterRun(string? Adapter, long Start, long Length);
