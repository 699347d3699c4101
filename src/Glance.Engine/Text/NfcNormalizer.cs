using System.Text;
using Microsoft.ML.Tokenizers;

namespace Glance.Engine.Text;

/// <summary>
/// Unicode NFC, Qwen2's only normalisation (transformers' Qwen2Tokenizer.prepare_for_tokenization, the NFC normalizer
/// of its tokenizer.json). An unpaired surrogate, which .NET's normalisation rejects and UTF-8 cannot encode, becomes
/// U+FFFD first (transformers fails on such text instead).
/// </summary>
internal sealed class NfcNormalizer : Normalizer
{
    public override string Normalize(string original)
    {
        ArgumentNullException.ThrowIfNull(original);
        return Normalize(original.AsSpan());
    }

    public override string Normalize(ReadOnlySpan<char> original)
    {
        var text = new StringBuilder(original.Length);
        Span<char> buffer = stackalloc char[2];
        foreach (var rune in original.EnumerateRunes()) text.Append(buffer[..rune.EncodeToUtf16(buffer)]);
        return text.ToString().Normalize(NormalizationForm.FormC);
    }
}
