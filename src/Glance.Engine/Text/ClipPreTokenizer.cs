using System.Text;
using Microsoft.ML.Tokenizers;

namespace Glance.Engine.Text;

/// <summary>
/// CLIP's pre-tokeniser, the regex <![CDATA[<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+]]>
/// (case-insensitive) as findall applies it, written as a scan over code points: .NET's regex classifies UTF-16 code
/// units, so a letter or digit outside the BMP would fall into the "other" run.
/// </summary>
internal sealed class ClipPreTokenizer : PreTokenizer
{
    static readonly string[] SpecialTokens = ["<|startoftext|>", "<|endoftext|>"];

    static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Split(text);
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int Offset, int Length)>();
        int i = 0;
        while (i < text.Length)
        {
            var rest = text[i..];
            int length = PrefixLength(rest, SpecialTokens);
            if (length == 0) length = ContractionLength(rest);
            if (length == 0)
            {
                Rune.DecodeFromUtf16(rest, out var rune, out int width);
                if (Rune.IsWhiteSpace(rune))
                {
                    i += width;
                    continue;
                }
                length = Rune.IsLetter(rune) ? RunLength(rest, Rune.IsLetter)
                    : Rune.IsNumber(rune) ? width
                    : RunLength(rest, r => !Rune.IsWhiteSpace(r) && !Rune.IsLetter(r) && !Rune.IsNumber(r));
            }
            pieces.Add((i, length));
            i += length;
        }
        return pieces;
    }

    static int PrefixLength(ReadOnlySpan<char> text, string[] alternatives)
    {
        foreach (var alternative in alternatives)
        {
            if (text.StartsWith(alternative, StringComparison.OrdinalIgnoreCase)) return alternative.Length;
        }
        return 0;
    }

    /// <summary>
    /// The regex's case-insensitive contractions. Python's IGNORECASE also matches the long s 'ſ' (U+017F) for 's',
    /// which .NET's OrdinalIgnoreCase does not.
    /// </summary>
    static int ContractionLength(ReadOnlySpan<char> text)
    {
        if (text.Length >= 2 && text[0] == '\'' && text[1] == '\u017F') return 2;
        return PrefixLength(text, Contractions);
    }

    /// <summary>Length in UTF-16 units of the longest prefix whose code points all satisfy <paramref name="member"/>.</summary>
    static int RunLength(ReadOnlySpan<char> text, Func<Rune, bool> member)
    {
        int length = 0;
        while (length < text.Length)
        {
            Rune.DecodeFromUtf16(text[length..], out var rune, out int width);
            if (!member(rune)) break;
            length += width;
        }
        return length;
    }
}
