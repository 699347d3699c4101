using System.Globalization;
using System.Text;

namespace Glance.Engine.Text;

/// <summary>
/// Python's str.lower(), which CLIP's tokenizer applies: .NET's invariant lower-casing maps one code point to one,
/// while Python uses the full mapping (U+0130 'İ' becomes "i" + U+0307) and lowers a capital sigma at the end of a
/// word to final sigma 'ς'.
/// </summary>
internal static class PythonLowerCase
{
    const int CapitalIWithDotAbove = 0x0130;
    const int CapitalSigma = 0x03A3;

    // Word_Break MidLetter, MidNumLet and Single_Quote characters: with Mn, Me, Cf, Lm and Sk they make up Unicode's
    // Case_Ignorable, which the final-sigma context skips over.
    static readonly HashSet<int> CaseIgnorablePunctuation =
        [0x0027, 0x002E, 0x003A, 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A];

    public static string Lower(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var runes = text.EnumerateRunes().ToArray();
        var builder = new StringBuilder(text.Length);
        Span<char> buffer = stackalloc char[2];
        for (int i = 0; i < runes.Length; i++)
        {
            switch (runes[i].Value)
            {
                case CapitalIWithDotAbove:
                    builder.Append("i\u0307");
                    break;
                case CapitalSigma:
                    builder.Append(IsFinalSigma(runes, i) ? 'ς' : 'σ');
                    break;
                default:
                    int written = Rune.ToLowerInvariant(runes[i]).EncodeToUtf16(buffer);
                    builder.Append(buffer[..written]);
                    break;
            }
        }
        return builder.ToString();
    }

    // Cased characters outside Lu, Ll and Lt (Other_Lowercase and Other_Uppercase: ª, º, modifier letters, Roman
    // numerals, circled letters, ...), as CPython 3.11's Unicode 14 tables have them.
    static readonly (int First, int Last)[] OtherCased =
    [
        (0x00AA, 0x00AA), (0x00BA, 0x00BA), (0x02B0, 0x02B8), (0x02C0, 0x02C1), (0x02E0, 0x02E4), (0x0345, 0x0345),
        (0x037A, 0x037A), (0x1D2C, 0x1D6A), (0x1D78, 0x1D78), (0x1D9B, 0x1DBF), (0x2071, 0x2071), (0x207F, 0x207F),
        (0x2090, 0x209C), (0x2160, 0x217F), (0x24B6, 0x24E9), (0x2C7C, 0x2C7D), (0xA69C, 0xA69D), (0xA770, 0xA770),
        (0xA7F8, 0xA7F9), (0xAB5C, 0xAB5F), (0x10780, 0x10780), (0x10783, 0x10785), (0x10787, 0x107B0), (0x107B2, 0x107BA),
        (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189),
    ];

    /// <summary>
    /// Unicode's Final_Sigma context, as CPython tests it: a cased character before (skipping case-ignorable ones) and
    /// none after.
    /// </summary>
    static bool IsFinalSigma(Rune[] runes, int index)
    {
        int before = index - 1;
        while (before >= 0 && IsCaseIgnorable(runes[before])) before--;
        if (before < 0 || !IsCased(runes[before])) return false;
        int after = index + 1;
        while (after < runes.Length && IsCaseIgnorable(runes[after])) after++;
        return after == runes.Length || !IsCased(runes[after]);
    }

    static bool IsCased(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        || OtherCased.Any(range => rune.Value >= range.First && rune.Value <= range.Last);

    static bool IsCaseIgnorable(Rune rune) =>
        CaseIgnorablePunctuation.Contains(rune.Value) || Rune.GetUnicodeCategory(rune) is
            UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
}
