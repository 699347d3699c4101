using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Glance.Engine.Checkpoints;

/// <summary>Where one tensor lies in the data section of a safetensors file.</summary>
public sealed record SafetensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

/// <summary>
/// The JSON header of a safetensors file: tensor entries plus the free-form string map stored under
/// "__metadata__" (where PEFT, diffusers and kohya keep adapter settings such as alpha).
/// </summary>
public sealed record SafetensorsHeader(IReadOnlyList<SafetensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata)
{
    const string MetadataKey = "__metadata__";

    /// <summary>Bytes before the data section: the 8-byte length prefix plus the JSON header.</summary>
    public long DataStart { get; init; }

    /// <summary>Reads the header from the start of <paramref name="stream"/>; <paramref name="path"/> names the file in errors.</summary>
    public static SafetensorsHeader Read(Stream stream, string path)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        long available = stream.Length - 8;
        if (headerLength == 0 || headerLength > (ulong)available)
            throw new InvalidDataException($"'{path}' declares a safetensors header of {headerLength} bytes; the file has {available} bytes after the length prefix.");
        var json = new byte[headerLength];
        stream.ReadExactly(json);
        long dataLength = available - (long)headerLength;
        return Parse(json, path, dataLength) with { DataStart = 8 + (long)headerLength };
    }

    static SafetensorsHeader Parse(byte[] json, string path, long dataLength)
    {
        using var document = JsonDocument.Parse(json);
        var entries = new List<SafetensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name == MetadataKey)
            {
                foreach (var item in property.Value.EnumerateObject())
                    metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String ? item.Value.GetString()! : item.Value.GetRawText();
                continue;
            }
            entries.Add(ParseEntry(property, path, dataLength));
        }
        return new SafetensorsHeader(entries, metadata);
    }

    static SafetensorsEntry ParseEntry(JsonProperty property, string path, long dataLength)
    {
        string name = property.Name;
        var value = property.Value;
        var dtype = SafetensorsDType.ToScalarType(value.GetProperty("dtype").GetString() ?? "", name, path);
        long[] shape = value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        long[] offsets = value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
            throw new InvalidDataException($"Tensor '{name}' in '{path}' has data_offsets [{string.Join(", ", offsets)}]; expected [begin, end] within the {dataLength}-byte data section.");
        long expectedBytes = shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDType.ElementSize(dtype);
        if (offsets[1] - offsets[0] != expectedBytes)
            throw new InvalidDataException($"Tensor '{name}' in '{path}' spans {offsets[1] - offsets[0]} bytes; shape [{string.Join(", ", shape)}] of {dtype} needs {expectedBytes}.");
        return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    /// <summary>The header JSON, padded with spaces to a multiple of 8 bytes as safetensors writers do.</summary>
    public byte[] ToJsonBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (Metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in Metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var entry in Entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", SafetensorsDType.ToCode(entry.DType, entry.Name));
                writer.WriteStartArray("shape");
                foreach (long size in entry.Shape) writer.WriteNumberValue(size);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(entry.Begin);
                writer.WriteNumberValue(entry.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        buffer.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        return buffer.ToArray();
    }
}
