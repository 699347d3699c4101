using Glance.Engine.Imaging;
using Glance.Engine.Serving;
using Glance.Mini.Evaluation;

namespace Glance.Mini.Tests.Evaluation;

public class LabelledContactSheetTests
{
    static DecodedImage Plain(int size, byte r, byte g, byte b)
    {
        var rgb = new byte[size * size * 3];
        for (int i = 0; i < rgb.Length; i += 3) (rgb[i], rgb[i + 1], rgb[i + 2]) = (r, g, b);
        return new DecodedImage(size, size, rgb);
    }

    static (byte, byte, byte) Pixel(DecodedImage image, int x, int y)
    {
        int at = (y * image.Width + x) * 3;
        return (image.Rgb[at], image.Rgb[at + 1], image.Rgb[at + 2]);
    }

    /// <summary>Ink pixels in a rectangle (anything not white).</summary>
    static int InkIn(DecodedImage image, int left, int top, int width, int height)
    {
        int count = 0;
        for (int y = top; y < top + height; y++)
            for (int x = left; x < left + width; x++)
                if (Pixel(image, x, y) != (255, 255, 255)) count++;
        return count;
    }

    [Fact]
    public void TheFontDrawsItsGlyphsAndAQuestionMarkForCharactersItLacks()
    {
        var image = Plain(20, 255, 255, 255);
        BitmapFont.Draw(image, 0, 0, "l", (0, 0, 0));
        // 'L': the left column and the bottom row.
        for (int y = 0; y < 7; y++) Assert.Equal((0, 0, 0), Pixel(image, 0, y));
        for (int x = 0; x < 5; x++) Assert.Equal((0, 0, 0), Pixel(image, x, 6));
        Assert.Equal((255, 255, 255), Pixel(image, 1, 0));

        var unknown = Plain(20, 255, 255, 255);
        var question = Plain(20, 255, 255, 255);
        BitmapFont.Draw(unknown, 0, 0, "é", (0, 0, 0), scale: 2);
        BitmapFont.Draw(question, 0, 0, "?", (0, 0, 0), scale: 2);
        Assert.Equal(question.Rgb, unknown.Rgb);
        Assert.False(BitmapFont.Covers('é'));
        Assert.Equal(2 * (3 * BitmapFont.Advance - 1), BitmapFont.Measure("abc", 2));
    }

    [Fact]
    public void EachImageIsFramedInItsVerdictsColourUnderAHeaderNamingTheColumns()
    {
        string[] columns = ["base-50", "glance"];
        var rows = new[]
        {
            new SheetRow("a red circle", [Plain(8, 200, 0, 0), Plain(8, 0, 0, 200)], [true, false]),
        };

        var sheet = LabelledContactSheet.Compose(columns, rows, scale: 2, textScale: 1, gap: 4);

        // Layout: header (7 + 2 * 4), then the prompt line (7 + 4), then frames of 16 + 2 * 3 pixels.
        int headerH = 7 + 8, frameTop = headerH + 7 + 4;
        int cellW = Math.Max(16 + 6, BitmapFont.Measure("base-50"));
        int secondLeft = 4 + cellW + 4;
        Assert.True(InkIn(sheet, 4, 4, BitmapFont.Measure("base-50"), 7) > 0, "no header text over the first column");
        Assert.True(InkIn(sheet, secondLeft, 4, BitmapFont.Measure("glance"), 7) > 0, "no header text over the second column");
        Assert.True(InkIn(sheet, 4, headerH, BitmapFont.Measure("a red circle"), 7) > 0, "no prompt text");
        Assert.Equal(LabelledContactSheet.CorrectColour, Pixel(sheet, 4, frameTop));
        Assert.Equal(((byte)200, (byte)0, (byte)0), Pixel(sheet, 4 + 3, frameTop + 3));
        Assert.Equal(LabelledContactSheet.WrongColour, Pixel(sheet, secondLeft, frameTop));
        Assert.Equal(((byte)0, (byte)0, (byte)200), Pixel(sheet, secondLeft + 3 + 15, frameTop + 3 + 15));
        // The verdict words under the frames, in the verdict's colour.
        int labelTop = frameTop + 22 + 4;
        Assert.Contains(LabelledContactSheet.CorrectColour, Enumerable.Range(4, BitmapFont.Measure("OK")).Select(x => Pixel(sheet, x, labelTop)));
        Assert.Contains(LabelledContactSheet.WrongColour, Enumerable.Range(secondLeft, BitmapFont.Measure("WRONG")).Select(x => Pixel(sheet, x, labelTop)));
    }

    [Fact]
    public void ARowWithAMissingVerdictIsRefused()
    {
        var rows = new[] { new SheetRow("a red circle", [Plain(8, 0, 0, 0), Plain(8, 0, 0, 0)], [true]) };

        var error = Assert.Throws<ArgumentException>(() => LabelledContactSheet.Compose(["a", "b"], rows));

        Assert.Contains("1 verdicts", error.Message, StringComparison.Ordinal);
    }
}
