using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Checkpoints;

/// <summary>
/// Loads a checkpoint in any key layout into a module, tensor by tensor: a format's mapping places each checkpoint
/// tensor into (a row slice of) one or more of the module's state-dict entries. Every shard's header is read and the
/// whole placement checked (unknown keys, shapes, every target row covered exactly once) before any weight is
/// copied, so a bad last shard fails in seconds. Pieces of one fused weight may lie in different shards.
/// </summary>
public static class PlacedCheckpointLoader
{
    const int ListedKeys = 20;

    /// <summary>A format's key mapping: placements for a checkpoint key (empty: deliberately skipped), null for an unknown key.</summary>
    public delegate IReadOnlyList<TensorPlacement>? KeyMapping(string checkpointKey, long[] shape);

    /// <summary>The identity mapping: a key the module has goes to itself; any other key is unknown.</summary>
    public static KeyMapping SameKeys(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var keys = module.state_dict().Keys.ToHashSet(StringComparer.Ordinal);
        return (key, _) => keys.Contains(key) ? [new TensorPlacement(key)] : null;
    }

    sealed record Copy(SafetensorsEntry Entry, TensorPlacement Placement, long Rows);

    /// <param name="module">Receives the weights; built with the checkpoint's architecture, in the target dtype and device.</param>
    /// <param name="path">A .safetensors file, a *.safetensors.index.json, or a folder holding one of them.</param>
    /// <param name="map">The format's key mapping.</param>
    /// <param name="format">Names the layout in errors ("diffusers FluxTransformer2DModel", ...).</param>
    public static void Load(nn.Module module, string path, KeyMapping map, string format) => Load(module, path, map, format, StagingBytes);

    /// <summary>The staging buffer's size: large enough that per-read overhead vanishes, small beside any model.</summary>
    internal const long StagingBytes = 64L << 20;

    internal static void Load(nn.Module module, string path, KeyMapping map, string format, long stagingBytes)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(map);
        var shards = CheckpointFiles.Resolve(path);
        var headers = shards.Select(s => (s.File, Header: ReadChecked(s, path))).ToArray();
        var targets = module.state_dict();
        var plan = Plan(headers, targets, map, format, module.GetType().Name, path);
        // The plan covers every entry, so all are about to be overwritten: small CPU tensors can move into shared storage.
        ParameterArena.Pack(targets.Values);

        using var guard = no_grad();
        // Page-locked for a GPU: the device copies straight from it, without the driver's own bounce through pageable memory.
        using var staging = new Staging(stagingBytes, pin: targets.Values.Any(t => t.device_type == DeviceType.CUDA));
        foreach (var (file, header) in headers)
        {
            if (!plan.TryGetValue(file, out var copies)) continue;
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            using var ahead = new ReadAhead(file, header.DataStart);
            foreach (var group in copies.GroupBy(c => c.Entry).OrderBy(g => g.Key.Begin))
            {
                var entry = group.Key;
                long offset = header.DataStart + entry.Begin;
                ahead.Consumed(offset);
                using var scope = NewDisposeScope();
                if (group.Count() == 1 && DirectTarget(group.First(), targets) is { } destination)
                {
                    // Same dtype, contiguous CPU memory: the file's bytes go straight into the parameter, copied once.
                    ReadInto(handle, offset, destination.bytes, file, entry);
                    continue;
                }
                // Another dtype or device, or pieces for several targets: read into the staging buffer, then convert in copy_.
                Stage(handle, offset, group.ToArray(), targets, staging, file);
            }
        }
    }

    /// <summary>
    /// Reads an entry through <paramref name="staging"/>, at most <see cref="Staging.Bytes"/> of it at a time (whole rows),
    /// and copies each piece to the rows of the targets it fills. Host memory for a load to another device or dtype is
    /// therefore the staging buffer, not the largest tensor (a Qwen2.5-VL embedding is 1.1 GB). An entry that cannot go
    /// by rows (a reshape, a row larger than the buffer, a scalar) is read whole into a tensor of its own.
    /// </summary>
    static void Stage(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, Copy[] copies, Dictionary<string, Tensor> targets, Staging staging, string file)
    {
        var entry = copies[0].Entry;
        long bytes = entry.End - entry.Begin;
        long rows = entry.Shape.Length == 0 ? 1 : entry.Shape[0];
        long rowBytes = rows == 0 ? 0 : bytes / rows;
        bool byRows = entry.Shape.Length > 0 && rowBytes > 0 && rowBytes <= staging.Bytes && copies.All(c => !c.Placement.Reshape);
        if (!byRows)
        {
            using var whole = empty(entry.Shape, dtype: entry.DType);
            if (bytes > 0) ReadInto(handle, offset, whole.bytes, file, entry);
            foreach (var copy in copies)
            {
                var target = targets[copy.Placement.TargetKey];
                var piece = copy.Placement.SourceRows is { } sourceRows ? whole.narrow(0, copy.Placement.SourceRowOffset, sourceRows) : whole;
                var slice = Slice(target, copy);
                slice.copy_(copy.Placement.Reshape || target.dim() == 0 ? piece.reshape(slice.shape) : piece);
            }
            return;
        }
        long chunkRows = staging.Bytes / rowBytes;
        for (long first = 0; first < rows; first += chunkRows)
        {
            long count = Math.Min(chunkRows, rows - first);
            var chunk = staging.View(entry.DType, [count, .. entry.Shape.Skip(1)]);
            ReadInto(handle, offset + first * rowBytes, chunk.bytes, file, entry);
            foreach (var copy in copies)
            {
                // The copy takes source rows [from, to); this chunk holds [first, first + count).
                long from = copy.Placement.SourceRowOffset;
                long to = from + (copy.Placement.SourceRows ?? rows);
                long low = Math.Max(first, from), high = Math.Min(first + count, to);
                if (low >= high) continue;
                var target = targets[copy.Placement.TargetKey];
                target.narrow(0, copy.Placement.RowOffset + low - from, high - low).copy_(chunk.narrow(0, low - first, high - low));
            }
        }
    }

    /// <summary>One reusable host buffer per load for the entries that do not go straight into their parameter, allocated on first use.</summary>
    internal sealed class Staging(long bytes, bool pin) : IDisposable
    {
        readonly Dictionary<ScalarType, Tensor> _buffers = [];

        public long Bytes { get; } = bytes;

        /// <summary>The buffer's first elements as a tensor of <paramref name="dtype"/> and <paramref name="shape"/> (whose bytes fit in <see cref="Bytes"/>).</summary>
        public Tensor View(ScalarType dtype, long[] shape)
        {
            if (!_buffers.TryGetValue(dtype, out var buffer))
            {
                // One per dtype in use: a checkpoint mixes at most a few (bfloat16 weights, float32 norms). Kept across
                // entries: out of the per-entry dispose scope it is created in.
                buffer = empty(Bytes / SafetensorsDType.ElementSize(dtype), dtype: dtype).DetachFromDisposeScope();
                if (pin)
                {
                    using var pageable = buffer;
                    buffer = pageable.pin_memory().DetachFromDisposeScope();
                }
                _buffers[dtype] = buffer;
            }
            long elements = shape.Aggregate(1L, (a, b) => a * b);
            return buffer.narrow(0, 0, elements).view(shape);
        }

        public void Dispose()
        {
            foreach (var buffer in _buffers.Values) buffer.Dispose();
            _buffers.Clear();
        }
    }

    static Tensor Slice(Tensor target, Copy copy) => target.dim() == 0 ? target : target.narrow(0, copy.Placement.RowOffset, copy.Rows);

    /// <summary>The target slice when the whole entry can be read into it as it is stored: same dtype, CPU, contiguous, under 2 GiB (a span's limit).</summary>
    static Tensor? DirectTarget(Copy copy, Dictionary<string, Tensor> targets)
    {
        var target = targets[copy.Placement.TargetKey];
        long bytes = copy.Entry.End - copy.Entry.Begin;
        if (copy.Placement.SourceRows is not null || target.dtype != copy.Entry.DType || target.device_type != DeviceType.CPU || bytes == 0 || bytes > int.MaxValue)
            return null;
        var slice = Slice(target, copy);
        return slice.is_contiguous() && slice.numel() * slice.element_size() == bytes ? slice : null;
    }

    static void ReadInto(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, Span<byte> destination, string file, SafetensorsEntry entry)
    {
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(handle, destination, offset);
            if (n == 0) throw new EndOfStreamException($"'{file}' ends inside tensor '{entry.Name}' (its header says bytes {entry.Begin}..{entry.End} of the data section).");
            destination = destination[n..];
            offset += n;
        }
    }

    static SafetensorsHeader ReadChecked(CheckpointShard shard, string path)
    {
        var header = SafetensorsFile.ReadHeader(shard.File);
        if (shard.IndexedKeys is { } indexed) CheckpointFiles.CheckIndexAgreement(path, shard.File, indexed, header.Entries.Select(e => e.Name));
        return header;
    }

    static Dictionary<string, List<Copy>> Plan(
        (string File, SafetensorsHeader Header)[] headers, Dictionary<string, Tensor> targets,
        KeyMapping map, string format, string moduleName, string path)
    {
        var problems = new List<string>();
        var unknown = new List<string>();
        var seenIn = new Dictionary<string, string>(StringComparer.Ordinal);
        var covered = new Dictionary<string, List<(long Offset, long Rows, string Source, long[] Shape, string File)>>(StringComparer.Ordinal);
        var plan = new Dictionary<string, List<Copy>>(StringComparer.Ordinal);

        foreach (var (file, header) in headers)
        {
            foreach (var entry in header.Entries)
            {
                if (!seenIn.TryAdd(entry.Name, file))
                {
                    problems.Add($"key '{entry.Name}' is in both '{seenIn[entry.Name]}' and '{file}'");
                    continue;
                }
                var placements = map(entry.Name, entry.Shape);
                if (placements is null)
                {
                    unknown.Add($"'{entry.Name}' (in '{Path.GetFileName(file)}')");
                    continue;
                }
                foreach (var placement in placements)
                {
                    if (!targets.TryGetValue(placement.TargetKey, out var target))
                    {
                        problems.Add($"key '{entry.Name}' in '{file}' maps to '{placement.TargetKey}', which {moduleName} does not have");
                        continue;
                    }
                    if (Rows(entry, placement, target) is not { } rows)
                    {
                        problems.Add($"key '{entry.Name}' in '{file}' has shape {Shape(entry.Shape)}; {moduleName} expects {Shape(target.shape)} for '{placement.TargetKey}'"
                            + (placement.RowOffset != 0 ? $" (rows from {placement.RowOffset})" : ""));
                        continue;
                    }
                    if (!covered.TryGetValue(placement.TargetKey, out var list)) covered[placement.TargetKey] = list = [];
                    list.Add((placement.RowOffset, rows, entry.Name, entry.Shape, file));
                    if (!plan.TryGetValue(file, out var copies)) plan[file] = copies = [];
                    copies.Add(new Copy(entry, placement, rows));
                }
            }
        }

        if (unknown.Count > 0)
            problems.Insert(0, $"{unknown.Count} key(s) that are not {format} parameters of {moduleName}: {Listed(unknown)}");
        var missing = new List<string>();
        foreach (var (key, target) in targets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            long expected = target.dim() == 0 ? 1 : target.shape[0];
            if (!covered.TryGetValue(key, out var pieces))
            {
                missing.Add($"'{key}'");
                continue;
            }
            long covering = pieces.Sum(p => p.Rows);
            if (pieces.Count == 1 && covering != expected)
            {
                // One tensor for the whole parameter: a plain shape mismatch.
                var only = pieces[0];
                problems.Add($"key '{only.Source}' in '{only.File}' has shape {Shape(only.Shape)}; {moduleName} expects {Shape(target.shape)} for '{key}'"
                    + (covering < expected ? $" (or the checkpoint lacks the keys for its rows {only.Offset + only.Rows}..{expected - 1})" : ""));
                continue;
            }
            long next = 0;
            foreach (var (offset, rows, source, _, _) in pieces.OrderBy(p => p.Offset))
            {
                if (offset != next)
                {
                    problems.Add(offset < next
                        ? $"'{key}' rows {offset}..{offset + rows - 1} come twice (again from '{source}')"
                        : $"'{key}' rows {next}..{offset - 1} come from no key");
                }
                next = Math.Max(next, offset + rows);
            }
            if (next < expected) problems.Add($"'{key}' rows {next}..{expected - 1} come from no key");
        }
        if (missing.Count > 0)
            problems.Add($"{missing.Count} missing parameter(s) of {moduleName} that no key of the {format} checkpoint provides: {Listed(missing)}");
        if (problems.Count > 0)
            throw new InvalidDataException($"Checkpoint '{path}' does not fit {moduleName} ({format}): {string.Join("; ", problems)}.");
        return plan;
    }

    /// <summary>Rows of the target the entry fills, or null when its shape does not fit there.</summary>
    static long? Rows(SafetensorsEntry entry, TensorPlacement placement, Tensor target)
    {
        var shape = (long[])entry.Shape.Clone();
        if (placement.SourceRows is { } sourceRows)
        {
            if (shape.Length == 0 || placement.SourceRowOffset < 0 || sourceRows <= 0 || placement.SourceRowOffset + sourceRows > shape[0]) return null;
            shape[0] = sourceRows;
        }
        long elements = shape.Aggregate(1L, (a, b) => a * b);
        if (target.dim() == 0) return placement.RowOffset == 0 && elements == 1 ? 1 : null;
        long rowSize = target.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        long rows;
        if (placement.Reshape)
        {
            if (rowSize == 0 || elements % rowSize != 0) return null;
            rows = elements / rowSize;
        }
        else
        {
            if (shape.Length != target.dim() || !shape.Skip(1).SequenceEqual(target.shape.Skip(1))) return null;
            rows = shape[0];
        }
        return placement.RowOffset >= 0 && placement.RowOffset + rows <= target.shape[0] ? rows : null;
    }

    static string Listed(List<string> items) =>
        string.Join(", ", items.Take(ListedKeys)) + (items.Count > ListedKeys ? $" and {items.Count - ListedKeys} more" : "");

    static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
