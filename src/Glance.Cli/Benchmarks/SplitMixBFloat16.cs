using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Glance.Cli.Benchmarks;

/// <summary>SplitMix64: fast, seeded, and enough for weights that only need to be loaded.</summary>
internal sealed class SplitMixBFloat16(ulong state)
{
    ulong _state = state;

    ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Random signs and mantissas with a fixed exponent: finite bfloat16 values of magnitude 2^-7 to 2^-6.</summary>
    public void FillBFloat16(Span<byte> destination)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(destination);
        for (int i = 0; i < words.Length; i++) words[i] = (Next() & 0x807F_807F_807F_807FUL) | 0x3C00_3C00_3C00_3C00UL;
        for (int i = words.Length * 8; i + 1 < destination.Length; i += 2)
            BinaryPrimitives.WriteUInt16LittleEndian(destination[i..], (ushort)((Next() & 0x807F) | 0x3C00));
    }
}
