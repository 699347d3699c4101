using System.Text;
using Microsoft.ML.Tokenizers;

namespace Glance.Engine.Text;

/// <summary>
/// Qwen2's pre-tokeniser, the regex
/// <![CDATA[(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+]]>
/// (transformers' tokenization_qwen2.py PRETOKENIZE_REGEX, the Split step of Qwen2's tokenizer.json) as findall
/// applies it, written as a scan over code points: .NET's regex classifies UTF-16 code units, so a letter outside the
/// BMP (CJK extension B, mathematical letters) or an emoji before a word would split differently. The pieces cover the
/// text without gaps: every character, whitespace included, belongs to a piece.
/// </summary>
internal sealed class Qwen2PreTokenizer : PreTokenizer
{
    static readonly string[] Contractions = ["s", "t", "re", "ve", "m", "ll", "d"];

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Split(text);
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    /// <summary>The pieces of <paramref name="text"/> as (offset, length) in UTF-16 units.</summary>
    internal static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int Offset, int Length)>();
        for (int i = 0; i < text.Length;)
        {
            int length = MatchLength(text[i..]);
            pieces.Add((i, length));
            i += length;
        }
        return pieces;
    }

    /// <summary>The length of the regex's match at the start of <paramref name="text"/> (never 0: the last alternative takes any whitespace).</summary>
    static int MatchLength(ReadOnlySpan<char> text)
    {
        Rune.DecodeFromUtf16(text, out var first, out int width);

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        int contraction = first.Value == '\'' ? ContractionLength(text[1..]) : 0;
        if (contraction > 0) return 1 + contraction;

        // [^\r\n\p{L}\p{N}]?\p{L}+ : one optional lead (a space, a mark, a symbol, an emoji ...) then letters.
        if (Rune.IsLetter(first)) return RunLength(text, Rune.IsLetter);
        if (!IsLineBreak(first) && !Rune.IsNumber(first) && text.Length > width && Rune.IsLetter(RuneAt(text, width)))
            return width + RunLength(text[width..], Rune.IsLetter);

        // \p{N} : one digit at a time.
        if (Rune.IsNumber(first)) return width;

        // ' ?[^\s\p{L}\p{N}]+[\r\n]*' : punctuation and symbols, optionally after one space, taking the line breaks after them.
        int lead = first.Value == ' ' && text.Length > 1 && IsOther(RuneAt(text, 1)) ? 1 : 0;
        if (lead == 1 || IsOther(first))
        {
            int end = lead + RunLength(text[lead..], IsOther);
            return end + RunLength(text[end..], IsLineBreak);
        }

        // What is left starts with whitespace.
        int run = RunLength(text, Rune.IsWhiteSpace);

        // \s*[\r\n]+ : whitespace up to and including its last line break.
        int lastBreak = text[..run].LastIndexOfAny('\r', '\n');
        if (lastBreak >= 0) return lastBreak + 1;

        // \s+(?!\S) : the run at the end of the text, else all of it but its last character, which goes with what
        // follows ("  word" gives " " and " word"). Every whitespace character is one UTF-16 unit.
        if (run == text.Length) return run;
        if (run > 1) return run - 1;

        // \s+ : a single whitespace character before a non-space that none of the above took.
        return run;
    }

    /// <summary>
    /// Length after the apostrophe of a case-insensitive contraction. Python's IGNORECASE also matches the long s 'ſ'
    /// (U+017F) for 's', which is matched explicitly.
    /// </summary>
    static int ContractionLength(ReadOnlySpan<char> text)
    {
        if (text.Length >= 1 && text[0] == '\u017F') return 1;
        foreach (string contraction in Contractions)
        {
            if (text.StartsWith(contraction, StringComparison.OrdinalIgnoreCase)) return contraction.Length;
        }
        return 0;
    }

    static bool IsLineBreak(Rune rune) => rune.Value is '\r' or '\n';

    /// <summary>[^\s\p{L}\p{N}]: neither whitespace, a letter nor a number.</summary>
    static bool IsOther(Rune rune) => !Rune.IsWhiteSpace(rune) && !Rune.IsLetter(rune) && !Rune.IsNumber(rune);

    static Rune RuneAt(ReadOnlySpan<char> text, int index)
    {
        Rune.DecodeFromUtf16(text[index..], out var rune, out _);
        return rune;
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
