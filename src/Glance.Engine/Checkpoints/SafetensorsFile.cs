using System.Buffers.Binary;
using static TorchSharp.torch;

namespace Glance.Engine.Checkpoints;

/// <summary>
/// Tensors and header metadata of a safetensors file, loaded onto the CPU. Disposing it disposes the tensors.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    SafetensorsFile(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>Tensors by name, in the order the header lists them.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>The header's "__metadata__" string map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads only the header: tensor names, dtypes, shapes and metadata, no tensor data.</summary>
    public static SafetensorsHeader ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        return SafetensorsHeader.Read(stream, path);
    }

    /// <summary>Reads the whole file; meant for files that fit in memory comfortably, such as adapters.</summary>
    public static SafetensorsFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        var header = SafetensorsHeader.Read(stream, path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in header.Entries)
            {
                var data = new byte[entry.End - entry.Begin];
                stream.Position = header.DataStart + entry.Begin;
                stream.ReadExactly(data);
                var tensor = empty(entry.Shape, dtype: entry.DType);
                if (data.Length > 0) tensor.bytes = data;
                tensors.Add(entry.Name, tensor);
            }
        }
        catch
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
            throw;
        }
        return new SafetensorsFile(path, tensors, header.Metadata);
    }

    /// <summary>Writes tensors (any device, any supported dtype) and an optional metadata map to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var duplicate = tensors.GroupBy(t => t.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Tensor name '{duplicate.Key}' appears {duplicate.Count()} times; names in a safetensors file must be unique.", nameof(tensors));

        var entries = new List<SafetensorsEntry>(tensors.Count);
        var blobs = new List<byte[]>(tensors.Count);
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            using var cpu = tensor.detach().contiguous().cpu();
            byte[] blob = cpu.bytes.ToArray();
            entries.Add(new SafetensorsEntry(name, tensor.dtype, tensor.shape, offset, offset + blob.Length));
            blobs.Add(blob);
            offset += blob.Length;
        }
        var header = new SafetensorsHeader(entries, metadata ?? new Dictionary<string, string>());
        byte[] json = header.ToJsonBytes();

        using var stream = File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        stream.Write(prefix);
        stream.Write(json);
        foreach (var blob in blobs) stream.Write(blob);
    }

    public void Dispose()
    {
        foreach (var tensor in Tensors.Values) tensor.Dispose();
    }
}
