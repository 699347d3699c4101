using System.Text.RegularExpressions;
using Glance.Engine.Text;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// Qwen2's pre-tokeniser against .NET's own regex engine running the published pattern (transformers'
/// tokenization_qwen2.py PRETOKENIZE_REGEX): an independent matcher with the same backtracking semantics as Python's
/// regex module. The two agree on text inside the Basic Multilingual Plane; beyond it .NET's regex sees surrogate
/// halves, which is why the pre-tokeniser scans code points, and those cases are pinned by hand.
/// </summary>
public sealed class Qwen2PreTokenizerTests
{
    const string PublishedPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    static readonly Regex Reference = new(PublishedPattern, RegexOptions.CultureInvariant);

    static string[] Pieces(string text) => Qwen2PreTokenizer.Split(text).Select(p => text.Substring(p.Offset, p.Length)).ToArray();

    static string[] ReferencePieces(string text) => Reference.Matches(text).Select(m => m.Value).ToArray();

    public static TheoryData<string> Handpicked => new()
    {
        "Hello world", "  Hello", "a  b", "a \n b", "x\t\t\ny", "end   ", "   ", "\r\n\r\n  \n", "a\n\n\nb",
        "I've 'told he's 'RE 'M 'D We'Ve a'lL", "'s's 'S", "3.14 1000000 ٣٤", "...hello", ".hello", "!!\n\nx", "a ,b",
        "(normal) [x] {y}", "\"quoted\"", "tab\tbefore", "nbsp\u00a0word", "ideographic\u3000space", "é vs e\u0301",
        "मनुष्य", "汉字和english混合123", "line\u2028sep", "x\u0085y", "   .", " \t.", "\n =",
    };

    [Theory]
    [MemberData(nameof(Handpicked))]
    public void SplitsAsThePublishedRegexWithinTheBasicPlane(string text)
    {
        Assert.Equal(ReferencePieces(text), Pieces(text));
    }

    [Fact]
    public void SplitsRandomBasicPlaneTextAsThePublishedRegex()
    {
        // Letters, marks, digits, apostrophes, punctuation and every kind of whitespace, mixed at random.
        string alphabet = "aZsStTlLdDrevm'’\"., !?-_()\u00e9\u0301\u0308\u0903१२3٣\u00bd\u2160 \t\n\r\u00a0\u3000\u2003\u000b\u000c\u0085世界ок";
        var random = new Random(20250815);
        for (int sample = 0; sample < 3000; sample++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 24)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            Assert.True(ReferencePieces(text).SequenceEqual(Pieces(text)), $"'{Regex.Escape(text)}': regex [{string.Join("|", ReferencePieces(text))}], ours [{string.Join("|", Pieces(text))}]");
        }
    }

    [Fact]
    public void PiecesCoverTheTextWithoutGaps()
    {
        string text = "a  \n\t b's 12 ?! \U0001F999x";
        var pieces = Qwen2PreTokenizer.Split(text);
        Assert.Equal(0, pieces[0].Offset);
        for (int i = 1; i < pieces.Count; i++) Assert.Equal(pieces[i - 1].Offset + pieces[i - 1].Length, pieces[i].Offset);
        Assert.Equal(text.Length, pieces[^1].Offset + pieces[^1].Length);
    }

    [Fact]
    public void LettersBeyondTheBasicPlaneAreLetters()
    {
        // U+20BB7 (a CJK extension B ideograph) and U+1D400 (mathematical bold A) are \p{L}: one word with the letters
        // around them, and the space before joins it.
        Assert.Equal(["\U00020BB7\u91ce\u5bb6", " \U0001D400bc"], Pieces("\U00020BB7\u91ce\u5bb6 \U0001D400bc"));
    }

    [Fact]
    public void AnEmojiLeadsTheWordAfterItAndRunsWithPunctuation()
    {
        // An emoji is [^\r\n\p{L}\p{N}]: it may lead a letter run, as one code point; otherwise it is punctuation.
        Assert.Equal(["\U0001F917Hello", " \U0001F999.", "cpp"], Pieces("\U0001F917Hello \U0001F999.cpp"));
    }

    [Fact]
    public void LongSAfterAnApostropheIsTheContractionS()
    {
        // Python's IGNORECASE folds U+017F to 's'.
        Assert.Equal(["it", "'\u017f"], Pieces("it'\u017f"));
    }
}
