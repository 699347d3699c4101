using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Glance.Engine.Pipeline;
using static TorchSharp.torch;

namespace Glance.Engine.Checkpoints;

/// <summary>A tensor to be written: its name, stored dtype and shape.</summary>
public sealed record TensorSpec(string Name, ScalarType DType, long[] Shape)
{
    public long ByteCount => Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDType.ElementSize(DType);
}

/// <summary>
/// Writes one NAME.safetensors, or NAME-0000i-of-0000n.safetensors plus NAME.safetensors.index.json (weight_map and
/// total_size, as Hugging Face writes them), one tensor at a time: the caller fills each tensor's bytes into a reused buffer,
/// so a file larger than memory can be written. Shards split the list by tensor count, so that the pieces of fused weights
/// fall into different shards.
/// </summary>
public static class ShardedSafetensorsWriter
{
    /// <summary>Fills <paramref name="destination"/> with the bytes of <paramref name="tensor"/> (little-endian, row-major).</summary>
    public delegate void FillBytes(TensorSpec tensor, Span<byte> destination);

    public static void Write(string folder, string name, IReadOnlyList<TensorSpec> tensors, int shards, FillBytes fill)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(fill);
        if (shards < 1) throw new ArgumentOutOfRangeException(nameof(shards), shards, "Shard count must be at least 1.");
        Directory.CreateDirectory(folder);
        if (shards == 1)
        {
            WriteFile(Path.Combine(folder, name + ".safetensors"), tensors, fill);
            return;
        }
        var weightMap = new JsonObject();
        long total = 0;
        int per = (tensors.Count + shards - 1) / shards;
        for (int s = 0; s < shards; s++)
        {
            string file = $"{name}-{s + 1:D5}-of-{shards:D5}.safetensors";
            var part = tensors.Skip(s * per).Take(per).ToList();
            WriteFile(Path.Combine(folder, file), part, fill);
            foreach (var tensor in part)
            {
                weightMap[tensor.Name] = file;
                total += tensor.ByteCount;
            }
        }
        FluxSnapshotFiles.WriteJson(Path.Combine(folder, name + ".safetensors.index.json"), new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total },
            ["weight_map"] = weightMap,
        });
    }

    static void WriteFile(string path, IReadOnlyList<TensorSpec> tensors, FillBytes fill)
    {
        var entries = new List<SafetensorsEntry>(tensors.Count);
        long offset = 0;
        foreach (var tensor in tensors)
        {
            long bytes = tensor.ByteCount;
            entries.Add(new SafetensorsEntry(tensor.Name, tensor.DType, tensor.Shape, offset, offset + bytes));
            offset += bytes;
        }
        byte[] json = new SafetensorsHeader(entries, new Dictionary<string, string>()).ToJsonBytes();
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        stream.Write(prefix);
        stream.Write(json);
        byte[] buffer = new byte[tensors.Count == 0 ? 0 : checked((int)tensors.Max(t => t.ByteCount))];
        foreach (var tensor in tensors)
        {
            var span = buffer.AsSpan(0, (int)tensor.ByteCount);
            fill(tensor, span);
            stream.Write(span);
        }
    }
}
