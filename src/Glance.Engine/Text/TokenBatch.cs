using static TorchSharp.torch;

namespace Glance.Engine.Text;

/// <summary>
/// Token sequences padded or truncated to one length, row-major [BatchSize, Length], with a 1/0 attention mask
/// (1 for real tokens, EOS included). Truncation keeps the EOS as the last token.
/// </summary>
public sealed class TokenBatch
{
    readonly long[] _ids;
    readonly long[] _mask;

    TokenBatch(int batchSize, int length, long[] ids, long[] mask, int[] tokenCounts)
    {
        TokenCounts = tokenCounts;
        BatchSize = batchSize;
        Length = length;
        _ids = ids;
        _mask = mask;
    }

    public int BatchSize { get; }
    public int Length { get; }
    public IReadOnlyList<long> Ids => _ids;
    public IReadOnlyList<long> Mask => _mask;

    /// <summary>Each row's token count before truncation; a row was cut where it exceeds <see cref="Length"/>.</summary>
    public IReadOnlyList<int> TokenCounts { get; }

    public static TokenBatch Create(IReadOnlyList<IReadOnlyList<int>> sequences, int length, int padId, int eosId)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "expected a positive token length");
        var ids = new long[sequences.Count * length];
        var mask = new long[sequences.Count * length];
        var counts = new int[sequences.Count];
        for (int row = 0; row < sequences.Count; row++)
        {
            var sequence = sequences[row] ?? throw new ArgumentException($"Sequence {row} is null.", nameof(sequences));
            int kept = Math.Min(sequence.Count, length);
            counts[row] = sequence.Count;
            int offset = row * length;
            for (int i = 0; i < length; i++)
            {
                ids[offset + i] = i < kept ? sequence[i] : padId;
                mask[offset + i] = i < kept ? 1 : 0;
            }
            if (sequence.Count > length) ids[offset + length - 1] = eosId;
        }
        return new TokenBatch(sequences.Count, length, ids, mask, counts);
    }

    public static TokenBatch Encode(ITextTokenizer tokenizer, IEnumerable<string> texts, int length)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(texts);
        var sequences = texts.Select(tokenizer.Encode).ToList();
        return Create(sequences, length, tokenizer.PadId, tokenizer.EosId);
    }

    /// <summary>Int64 tensors [BatchSize, Length]: ids and mask.</summary>
    public (Tensor Ids, Tensor Mask) ToTensors(Device? device = null)
    {
        long[] shape = [BatchSize, Length];
        return (tensor(_ids, shape, device: device), tensor(_mask, shape, device: device));
    }
}
