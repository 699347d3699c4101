using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>
/// A linear layer that can carry named low-rank adapters, applied unmerged and routed per sample through a
/// shared <see cref="AdapterRouting"/>, or merged into the weight. Its own state-dict keys are exactly
/// "weight" and "bias", as in the checkpoints; adapter tensors are kept out of the state dict.
/// </summary>
public sealed partial class LoraLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public Parameter weight;
    public Parameter? bias;
#pragma warning restore IDE1006, CA1051

    readonly Dictionary<string, List<LoraPiece>> _adapters = new(StringComparer.Ordinal);
    readonly HashSet<string> _merged = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> _mergedWeights = new(StringComparer.Ordinal);

    public LoraLinear(long inFeatures, long outFeatures, bool hasBias = true, ScalarType? dtype = null, Device? device = null)
        : base(nameof(LoraLinear))
    {
        if (inFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "expected a positive input size");
        if (outFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(outFeatures), outFeatures, "expected a positive output size");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        using (no_grad())
        {
            // Same initialisation as torch.nn.Linear, so freshly built models train sensibly; none when a load overwrites it.
            bool initialise = !ParameterInitialization.IsSkipped;
            var w = empty(outFeatures, inFeatures, dtype: dtype, device: device);
            if (initialise) nn.init.kaiming_uniform_(w, Math.Sqrt(5));
            weight = new Parameter(w);
            if (hasBias)
            {
                double bound = 1 / Math.Sqrt(inFeatures);
                var b = empty(outFeatures, dtype: dtype, device: device);
                if (initialise) b.uniform_(-bound, bound);
                bias = new Parameter(b);
            }
        }
        RegisterComponents();
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }

    /// <summary>Routing shared with the rest of the model; null means adapters are never applied unmerged.</summary>
    public AdapterRouting? Routing { get; set; }

    public IReadOnlyCollection<string> AdapterNames => _adapters.Keys;

    public IReadOnlyList<LoraPiece> PiecesOf(string adapter) =>
        _adapters.TryGetValue(adapter, out var pieces) ? pieces : [];

    /// <summary>Attaches one piece of an adapter; shapes are checked against this layer.</summary>
    public void AddPiece(string adapter, LoraPiece piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (IsOffloaded(adapter))
            throw new InvalidOperationException($"Adapter '{adapter}' is offloaded to the host; load it before adding pieces.");
        if (_merged.Contains(adapter))
            throw new InvalidOperationException($"Adapter '{adapter}' is merged into this layer; unmerge it before adding pieces.");
        if (piece.Down.dim() != 2 || piece.Down.shape[1] != InFeatures)
            throw new ArgumentException($"LoRA down weight for '{piece.TargetName}' has shape [{string.Join(", ", piece.Down.shape)}]; expected [rank, {InFeatures}].", nameof(piece));
        if (piece.Up.dim() != 2 || piece.Up.shape[1] != piece.Down.shape[0])
            throw new ArgumentException($"LoRA up weight for '{piece.TargetName}' has shape [{string.Join(", ", piece.Up.shape)}]; expected [rows, {piece.Down.shape[0]}].", nameof(piece));
        if (piece.RowOffset < 0 || piece.RowOffset + piece.Rows > OutFeatures)
            throw new ArgumentException($"LoRA up weight for '{piece.TargetName}' writes rows [{piece.RowOffset}, {piece.RowOffset + piece.Rows}); the layer has {OutFeatures} output rows.", nameof(piece));
        if (!_adapters.TryGetValue(adapter, out var pieces)) _adapters[adapter] = pieces = [];
        pieces.Add(piece);
        ClearMergedWeights();
    }

    /// <summary>Detaches an adapter (unmerging it first if merged) and disposes its tensors.</summary>
    public void RemoveAdapter(string adapter)
    {
        if (_merged.Contains(adapter)) Unmerge(adapter);
        ClearMergedWeights();
        if (!_adapters.Remove(adapter, out var pieces)) return;
        foreach (var piece in pieces)
        {
            piece.Down.Dispose();
            piece.Up.Dispose();
        }
        ReleaseHostCopy(adapter);
    }

    public bool IsMerged(string adapter) => _merged.Contains(adapter);

    /// <summary>W += scale * up @ down for every piece of the adapter; routing then skips it.</summary>
    public void Merge(string adapter)
    {
        if (!_adapters.ContainsKey(adapter) || !_merged.Add(adapter)) return;
        AddToWeight(adapter, 1.0);
    }

    public void Unmerge(string adapter)
    {
        if (!_merged.Remove(adapter)) return;
        AddToWeight(adapter, -1.0);
    }

    /// <summary>
    /// When set (and no gradients are recorded), each run of rows sharing an adapter runs one matmul with a cached
    /// W + scale * up @ down instead of the base matmul plus the low-rank path: the speed of a merged adapter for
    /// every phase at once, with the base weight left untouched (exact) and no merge/unmerge between phases. A batch
    /// that mixes Slow and Fast rows costs one matmul per run instead of a base matmul plus, per adapter, a gather,
    /// two low-rank matmuls and a scatter. Costs one weight-sized tensor per adapter, so the owner enables it only
    /// within a memory budget.
    /// </summary>
    public bool CacheMergedWeights
    {
        get => _cacheMergedWeights;
        set
        {
            _cacheMergedWeights = value;
            if (!value) ClearMergedWeights();
        }
    }

    bool _cacheMergedWeights;

    /// <summary>Bytes one cached merged weight takes.</summary>
    public long MergedWeightBytes => weight.numel() * weight.ElementSize;

    void ClearMergedWeights()
    {
        foreach (var cached in _mergedWeights.Values) cached.Dispose();
        _mergedWeights.Clear();
    }

    Tensor MergedWeight(string adapter, List<LoraPiece> pieces)
    {
        if (_mergedWeights.TryGetValue(adapter, out var cached)) return cached;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var merged = weight.to(ScalarType.Float32).clone();
        foreach (var piece in pieces)
        {
            var delta = WeightDelta(piece);
            merged.narrow(0, piece.RowOffset, piece.Rows).PlusInPlace(delta);
        }
        var stored = merged.to(weight.dtype).DetachFromDisposeScope();
        _mergedWeights[adapter] = stored;
        return stored;
    }

    /// <summary>The piece as a float32 weight update for its rows: scale * up @ down.</summary>
    static Tensor WeightDelta(LoraPiece piece) =>
        piece.Up.to(ScalarType.Float32).matmul(piece.Down.to(ScalarType.Float32)).Times(piece.Scale);

    void AddToWeight(string adapter, double sign)
    {
        ClearMergedWeights();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var piece in _adapters[adapter])
        {
            var delta = WeightDelta(piece).Times(sign);
            var rows = weight.narrow(0, piece.RowOffset, piece.Rows);
            rows.copy_(rows.to(ScalarType.Float32).Plus(delta).to(weight.dtype));
        }
    }

    public override Tensor forward(Tensor input)
    {
        var routing = Routing;
        if (routing is null || _adapters.Count == 0) return nn.functional.linear(input, weight, bias);

        bool inPlace = !is_grad_enabled();
        if (inPlace && _cacheMergedWeights && RunWeights(routing) is { } runs)
            return LinearPerRun(input, runs);

        // Without autograd the delta can be added in place: one allocation less per adapted layer and step.
        var output = nn.functional.linear(input, weight, bias);
        foreach (var (adapter, rows) in routing.SamplesByAdapter)
        {
            if (_merged.Contains(adapter) || !_adapters.TryGetValue(adapter, out var pieces)) continue;
            bool wholeBatch = rows.shape[0] == routing.BatchSize;
            using var selected = wholeBatch ? input.alias() : input.index_select(0, rows);
            using var delta = Delta(pieces, selected);
            output = (wholeBatch, inPlace) switch
            {
                (true, true) => output.PlusInPlace(delta),
                (true, false) => output.Plus(delta),
                (false, true) => output.IndexPlusInPlace(0, rows, delta),
                (false, false) => output.IndexPlus(0, rows, delta),
            };
        }
        return output;
    }

    /// <summary>
    /// The weight each run of the batch uses (the base weight for rows without an adapter or with a merged one), or
    /// null when an adapter is being trained and needs the low-rank path.
    /// </summary>
    List<(AdapterRun Run, Tensor Weight)>? RunWeights(AdapterRouting routing)
    {
        var runs = new List<(AdapterRun, Tensor)>(routing.Runs.Count);
        foreach (var run in routing.Runs)
        {
            if (run.Adapter is null || _merged.Contains(run.Adapter) || !_adapters.TryGetValue(run.Adapter, out var pieces))
            {
                runs.Add((run, weight));
                continue;
            }
            if (pieces.Any(p => p.Up.requires_grad || p.Down.requires_grad)) return null;
            runs.Add((run, MergedWeight(run.Adapter, pieces)));
        }
        return runs.Count == 0 ? null : runs;
    }

    /// <summary>
    /// One matmul per run, each written by addmm_ straight into its rows of a single output buffer, then one bias
    /// add over the whole output. Joining per-run results with cat copied the layer's output once more, which cost
    /// a mixed Slow/Fast batch-16 step of glance-mini 4-11% in bfloat16 on a CPU. For token inputs [B, L, in] the
    /// result is the single-run path's to the bit (TorchSharp's linear is a matmul then a bias add there).
    /// beta = 0 makes addmm_ ignore the buffer's uninitialised contents.
    /// </summary>
    Tensor LinearPerRun(Tensor input, List<(AdapterRun Run, Tensor Weight)> runs)
    {
        if (runs.Count == 1) return nn.functional.linear(input, runs[0].Weight, bias);
        using var scope = NewDisposeScope();
        long rowsPerSample = input.numel() / (input.shape[0] * InFeatures);
        var flat = input.reshape(-1, InFeatures);
        var output = empty([flat.shape[0], OutFeatures], dtype: input.dtype, device: input.device);
        foreach (var (run, runWeight) in runs)
        {
            long start = run.Start * rowsPerSample;
            long length = run.Length * rowsPerSample;
            output.narrow(0, start, length).addmm_(flat.narrow(0, start, length), runWeight.t(), beta: 0, alpha: 1);
        }
        if (bias is not null) output.PlusInPlace(bias);
        return output.view([.. input.shape[..^1], OutFeatures]).MoveToOuterDisposeScope();
    }

    Tensor Delta(List<LoraPiece> pieces, Tensor x)
    {
        Tensor? sum = null;
        foreach (var piece in pieces)
        {
            // Scaling the rank-sized intermediate is cheaper than scaling the layer-sized result.
            using var down = nn.functional.linear(x, piece.Down);
            using var scaled = down.Times(piece.Scale);
            var update = nn.functional.linear(scaled, piece.Up);
            if (piece.Rows != OutFeatures)
            {
                var padded = nn.functional.pad(update, [piece.RowOffset, OutFeatures - piece.RowOffset - piece.Rows]);
                update.Dispose();
                update = padded;
            }
            if (sum is null)
            {
                sum = update;
            }
            else
            {
                var next = sum.Plus(update);
                sum.Dispose();
                update.Dispose();
                sum = next;
            }
        }
        return sum!;
    }
}
