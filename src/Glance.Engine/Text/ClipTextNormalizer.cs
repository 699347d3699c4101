using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Glance.Engine.Text;

/// <summary>
/// The text clean-up of transformers' CLIPTokenizer (tokenization_clip.py) when ftfy is not installed, which is how
/// FluxPipeline loads it by default: its BasicTokenizer (no accent stripping, no punctuation split) drops NUL, U+FFFD
/// and control/format characters, turns whitespace into spaces, puts spaces around CJK ideographs, applies NFC,
/// collapses whitespace and lower-cases the way Python does. With ftfy, or with the fast tokenizer, CJK ideographs are
/// not spaced out and control characters are kept (ftfy also repairs mojibake); for Latin-script prompts the three
/// agree.
/// </summary>
internal sealed class ClipTextNormalizer : Normalizer
{
    public override string Normalize(string original)
    {
        ArgumentNullException.ThrowIfNull(original);
        return Normalize(original.AsSpan());
    }

    public override string Normalize(ReadOnlySpan<char> original)
    {
        var cleaned = new StringBuilder(original.Length);
        Span<char> buffer = stackalloc char[2];
        // Unpaired surrogates arrive as U+FFFD and are dropped with it; Python drops them as category Cs.
        foreach (var rune in original.EnumerateRunes())
        {
            if (rune.Value == 0 || rune.Value == 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune))
            {
                cleaned.Append(' ');
                continue;
            }
            bool ideograph = IsCjkIdeograph(rune.Value);
            if (ideograph) cleaned.Append(' ');
            cleaned.Append(buffer[..rune.EncodeToUtf16(buffer)]);
            if (ideograph) cleaned.Append(' ');
        }
        var words = cleaned.ToString().Normalize(NormalizationForm.FormC).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return PythonLowerCase.Lower(string.Join(' ', words));
    }

    /// <summary>transformers' _is_whitespace: space, tab, newline, carriage return and category Zs.</summary>
    static bool IsWhitespace(Rune rune) =>
        rune.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator;

    /// <summary>transformers' _is_control: any "C*" category (Cc, Cf, Cs, Co, Cn) except tab, newline and carriage return.</summary>
    static bool IsControl(Rune rune) =>
        rune.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(rune) is
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    /// <summary>The CJK Unified Ideographs blocks of BasicTokenizer._is_chinese_char.</summary>
    static bool IsCjkIdeograph(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
