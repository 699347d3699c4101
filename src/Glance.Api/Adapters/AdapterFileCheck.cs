using System.Buffers.Binary;
using Glance.Engine.Checkpoints;

namespace Glance.Api.Adapters;

/// <summary>
/// The structural checks an uploaded adapter file passes before the model sees it: a header of sane size that parses,
/// tensors whose byte ranges neither overlap nor leave holes, and no bytes after the last tensor. Each failure names the
/// part and the problem.
/// </summary>
internal static class AdapterFileCheck
{
    /// <summary>A LoRA's header lists a few thousand tensors at most; a larger one is not an adapter (or is an attack).</summary>
    public const long MaxHeaderBytes = 8L << 20;

    /// <summary>Null when the file is well formed, else what is wrong.</summary>
    public static string? Problem(string path, string part)
    {
        using var stream = File.OpenRead(path);
        if (stream.Length < 8) return $"'{part}' has {stream.Length} bytes; a safetensors file starts with an 8-byte header length.";
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            return $"'{part}' declares a {headerLength}-byte header; at most {MaxHeaderBytes} bytes are accepted.";
        stream.Position = 0;
        SafetensorsHeader header;
        try
        {
            header = SafetensorsHeader.Read(stream, part);
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException or FormatException or EndOfStreamException)
        {
            return e.Message;
        }
        if (header.Entries.Count == 0) return $"'{part}' holds no tensors.";
        long expected = 0;
        foreach (var entry in header.Entries.OrderBy(e => e.Begin))
        {
            if (entry.Begin < expected) return $"'{part}': tensor '{entry.Name}' starts at byte {entry.Begin}, inside the previous tensor (which ends at {expected}).";
            if (entry.Begin > expected) return $"'{part}': bytes {expected}..{entry.Begin} before tensor '{entry.Name}' belong to no tensor.";
            expected = entry.End;
        }
        long dataLength = stream.Length - header.DataStart;
        return expected == dataLength ? null
            : $"'{part}' has {dataLength - expected} bytes after its last tensor; a safetensors file ends with its data.";
    }
}
