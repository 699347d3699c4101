using System.Text;

namespace Glance.Engine.Text;

/// <summary>
/// Microsoft.ML.Tokenizers 2.0.1 indexes its piece table with trainer_spec.bos_id when it builds a unigram model, so
/// a model without BOS (bos_id = -1, as T5's spiece.model) fails to load with IndexOutOfRangeException. This points
/// the unused BOS at the unknown piece instead, by appending a second trainer_spec to the ModelProto: protobuf merges
/// repeated embedded messages, and the later bos_id/bos_piece win. The tokenizer never emits BOS for T5.
/// </summary>
static class SentencePieceBosPatch
{
    const int TrainerSpecField = 2;   // ModelProto.trainer_spec
    const int UnkIdField = 40;        // TrainerSpec.unk_id, default 0
    const int BosIdField = 41;        // TrainerSpec.bos_id, default 1
    const int UnkPieceField = 45;     // TrainerSpec.unk_piece, default "<unk>"
    const int BosPieceField = 46;     // TrainerSpec.bos_piece

    public static byte[] PointMissingBosAtUnknown(byte[] model)
    {
        long unkId = 0, bosId = 1;
        string unkPiece = "<unk>";
        foreach (var (field, _, value, start, length) in Fields(model, 0, model.Length))
        {
            if (field != TrainerSpecField) continue;
            foreach (var (inner, _, innerValue, innerStart, innerLength) in Fields(model, start, start + length))
            {
                if (inner == UnkIdField) unkId = (int)innerValue;
                else if (inner == BosIdField) bosId = (int)innerValue;
                else if (inner == UnkPieceField) unkPiece = Encoding.UTF8.GetString(model, innerStart, innerLength);
            }
        }
        if (bosId >= 0) return model;

        var spec = new List<byte>();
        WriteTag(spec, BosIdField, 0);
        WriteVarint(spec, (ulong)unkId);
        var piece = Encoding.UTF8.GetBytes(unkPiece);
        WriteTag(spec, BosPieceField, 2);
        WriteVarint(spec, (ulong)piece.Length);
        spec.AddRange(piece);

        var patched = new List<byte>(model.Length + spec.Count + 8);
        patched.AddRange(model);
        WriteTag(patched, TrainerSpecField, 2);
        WriteVarint(patched, (ulong)spec.Count);
        patched.AddRange(spec);
        return [.. patched];
    }

    /// <summary>Top-level fields of one message: varints carry their value; length-delimited fields their span.</summary>
    static IEnumerable<(int Field, int WireType, ulong Value, int Start, int Length)> Fields(byte[] data, int start, int end)
    {
        int position = start;
        while (position < end)
        {
            ulong tag = ReadVarint(data, ref position, end);
            int field = (int)(tag >> 3), wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    yield return (field, wireType, ReadVarint(data, ref position, end), position, 0);
                    break;
                case 1:
                    position = Skip(position, 8, end);
                    break;
                case 2:
                    int length = checked((int)ReadVarint(data, ref position, end));
                    int at = position;
                    position = Skip(position, length, end);
                    yield return (field, wireType, 0, at, length);
                    break;
                case 5:
                    position = Skip(position, 4, end);
                    break;
                default:
                    throw new InvalidDataException($"SentencePiece model has protobuf wire type {wireType} at byte {position}; expected 0, 1, 2 or 5.");
            }
        }
    }

    static int Skip(int position, int count, int end) =>
        position + count <= end ? position + count : throw new InvalidDataException($"SentencePiece model is truncated at byte {position}.");

    static ulong ReadVarint(byte[] data, ref int position, int end)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= end) throw new InvalidDataException($"SentencePiece model is truncated at byte {position}.");
            byte b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException($"SentencePiece model has an over-long varint ending at byte {position}.");
    }

    static void WriteTag(List<byte> output, int field, int wireType) => WriteVarint(output, (ulong)((field << 3) | wireType));

    static void WriteVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
    }
}
