using System.Buffers.Binary;
using System.Text;

namespace Glance.Engine.Text;

/// <summary>The few protobuf wire-format writes a SentencePiece ModelProto needs (varints, floats, strings, bytes, messages).</summary>
sealed class ProtobufWriter
{
    readonly List<byte> _bytes = [];

    /// <summary>A varint field; negative int32 values take ten bytes, as protobuf encodes them.</summary>
    public void Varint(int field, long value)
    {
        Tag(field, 0);
        Raw(unchecked((ulong)value));
    }

    public void Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(buffer, value);
        _bytes.AddRange(buffer);
    }

    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public void Message(int field, ProtobufWriter message) => Bytes(field, message.ToArray());

    public void Bytes(int field, byte[] value)
    {
        Tag(field, 2);
        Raw((ulong)value.Length);
        _bytes.AddRange(value);
    }

    public byte[] ToArray() => [.. _bytes];

    void Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

    void Raw(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.Add((byte)value);
    }
}
