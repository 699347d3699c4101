using System.Text;

namespace Glance.Engine.Text;

/// <summary>
/// Writes a SentencePiece ModelProto by hand (protobuf wire format), so tokenizer tests need no downloaded model.
/// Field numbers follow sentencepiece_model.proto: ModelProto.pieces = 1, trainer_spec = 2, normalizer_spec = 3;
/// SentencePiece.piece = 1, score = 2, type = 3; TrainerSpec.model_type = 3, vocab_size = 4, unk_id = 40,
/// bos_id = 41, eos_id = 42, pad_id = 43; NormalizerSpec.name = 1, add_dummy_prefix = 3,
/// remove_extra_whitespaces = 4, escape_whitespaces = 5.
/// </summary>
public static class SentencePieceModelBuilder
{
    public const int Normal = 1, Unknown = 2, Control = 3;
    const int UnigramModelType = 1; // TrainerSpec.ModelType.UNIGRAM

    public static byte[] Unigram(IReadOnlyList<(string Piece, float Score, int Type)> pieces, int unkId, int bosId, int eosId, int padId)
    {
        var model = new ProtoWriter();
        foreach (var (piece, score, type) in pieces)
        {
            var entry = new ProtoWriter();
            entry.String(1, piece);
            entry.Float(2, score);
            entry.Varint(3, type);
            model.Message(1, entry);
        }
        var trainer = new ProtoWriter();
        trainer.Varint(3, UnigramModelType);
        trainer.Varint(4, pieces.Count);
        trainer.Varint(40, unkId);
        trainer.Varint(41, bosId);
        trainer.Varint(42, eosId);
        trainer.Varint(43, padId);
        model.Message(2, trainer);
        var normalizer = new ProtoWriter();
        normalizer.String(1, "identity");
        normalizer.Varint(3, 1);
        normalizer.Varint(4, 1);
        normalizer.Varint(5, 1);
        model.Message(3, normalizer);
        return model.ToArray();
    }

    sealed class ProtoWriter
    {
        readonly List<byte> _bytes = [];

        public void Varint(int field, long value)
        {
            Tag(field, 0);
            RawVarint(unchecked((ulong)value)); // negative int32 values take ten bytes, as protobuf specifies
        }

        public void Float(int field, float value)
        {
            Tag(field, 5);
            _bytes.AddRange(BitConverter.GetBytes(value)); // little-endian on every supported platform
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _bytes.ToArray();

        void Bytes(int field, byte[] value)
        {
            Tag(field, 2);
            RawVarint((ulong)value.Length);
            _bytes.AddRange(value);
        }

        void Tag(int field, int wireType) => RawVarint((ulong)((field << 3) | wireType));

        void RawVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.Add((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.Add((byte)value);
        }
    }
}
