using Glance.Engine.Text;

namespace Glance.Engine.Tests.Clip;

/// <summary>
/// The clean-up and word split that CLIP adds around the BPE, pinned to what transformers' tokenization_clip.py and
/// Python do (BasicTokenizer without ftfy, str.lower, the regex module's findall).
/// </summary>
public class ClipTextAdapterTests
{
    static string Normalize(string text) => new ClipTextNormalizer().Normalize(text);

    [Fact]
    public void NormalizerCollapsesWhitespaceDropsFormatCharactersAndLowerCases()
    {
        // NBSP is Zs (a space); ZERO WIDTH SPACE is Cf (dropped like a control character); tabs and newlines are spaces.
        Assert.Equal("hello world!", Normalize("  Hello\u00A0\tWORLD\u200B!\r\n"));
    }

    [Fact]
    public void NormalizerComposesToNfcAndSpacesOutCjkIdeographs()
    {
        Assert.Equal("x\u00e3y", Normalize("xa\u0303y"));
        Assert.Equal("生 活 的 x", Normalize("生活的X"));
    }

    [Fact]
    public void LowerCasingIsPythons()
    {
        // str.lower(): the full mapping of U+0130 and the final sigma (ς only where no cased letter follows).
        Assert.Equal("i\u0307stanbul", PythonLowerCase.Lower("\u0130STANBUL"));
        Assert.Equal("οδος σ", PythonLowerCase.Lower("ΟΔΟΣ Σ"));
        Assert.Equal("aς. aσ.b", PythonLowerCase.Lower("AΣ. AΣ.b"));
        // Cased without being a letter of Lu/Ll/Lt: the small Roman numeral one (Other_Lowercase) before the sigma.
        Assert.Equal("ⅰ·ς1", PythonLowerCase.Lower("ⅰ·Σ1"));
    }

    [Fact]
    public void PreTokenizerSplitsLikeClipsRegex()
    {
        static string[] Split(string text) =>
            new ClipPreTokenizer().PreTokenize(text).Select(p => text.Substring(p.Offset, p.Length)).ToArray();

        Assert.Equal(["it", "'s", "a", "1", "2", "x"], Split("it's a 12x"));
        Assert.Equal(["?'", "d", "'d", "''", "d"], Split("?'d'd''d"));
        Assert.Equal(["a", "<|endoftext|>", "b", "!<|", "endoftext", "|>"], Split("a<|endoftext|>b !<|endoftext|>"));
        // Letters outside the BMP are letters (\p{L} on code points); the case-insensitive "'s" also takes the long s.
        Assert.Equal(["a\U0001D41A", "!", "'\u017F"], Split("a\U0001D41A! '\u017F"));
    }
}
