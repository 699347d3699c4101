using Glance.Engine.Imaging;
using Glance.Engine.Serving;

namespace Glance.Mini.Evaluation;

/// <summary>One prompt's row: its images in column order and whether the shapes detector judged each correct.</summary>
public sealed record SheetRow(string Prompt, IReadOnlyList<DecodedImage> Images, IReadOnlyList<bool> Correct);

/// <summary>
/// The evaluation's contact sheet, readable on its own: a header naming each column, and per row the prompt above its
/// images and, around and under each image, the detector's verdict (a green frame and "OK", or a red frame and "WRONG").
/// Text is drawn with the built-in <see cref="BitmapFont"/>.
/// </summary>
public static class LabelledContactSheet
{
    public static readonly (byte R, byte G, byte B) Ink = (20, 20, 20);
    public static readonly (byte R, byte G, byte B) CorrectColour = (0, 150, 60);
    public static readonly (byte R, byte G, byte B) WrongColour = (210, 30, 30);
    public const string CorrectLabel = "OK";
    public const string WrongLabel = "WRONG";

    /// <summary>Pixels of the verdict frame drawn around each image.</summary>
    public const int Frame = 3;

    public static DecodedImage Compose(IReadOnlyList<string> columns, IReadOnlyList<SheetRow> rows, int scale = 2, int textScale = 2, int gap = 6)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        if (columns.Count == 0 || rows.Count == 0) throw new ArgumentException("A contact sheet needs at least one column and one row.", nameof(rows));
        foreach (var row in rows)
        {
            if (row.Images.Count != columns.Count || row.Correct.Count != columns.Count)
                throw new ArgumentException($"Row '{row.Prompt}' has {row.Images.Count} images and {row.Correct.Count} verdicts; the sheet has {columns.Count} columns.", nameof(rows));
        }
        int imageW = rows.SelectMany(r => r.Images).Max(i => i.Width) * scale;
        int imageH = rows.SelectMany(r => r.Images).Max(i => i.Height) * scale;
        int textH = BitmapFont.GlyphHeight * textScale;
        int cellW = Math.Max(imageW + 2 * Frame, columns.Max(c => BitmapFont.Measure(c, textScale)));
        int width = Math.Max(columns.Count * cellW + (columns.Count + 1) * gap, rows.Max(r => BitmapFont.Measure(r.Prompt, textScale)) + 2 * gap);
        int headerH = textH + 2 * gap;
        int rowH = textH + gap + imageH + 2 * Frame + gap + textH + gap;
        int height = headerH + rows.Count * rowH + gap;
        var sheet = new DecodedImage(width, height, new byte[width * height * 3]);
        Array.Fill(sheet.Rgb, (byte)255);

        for (int c = 0; c < columns.Count; c++)
            BitmapFont.Draw(sheet, CellLeft(c), gap, columns[c], Ink, textScale);
        for (int r = 0; r < rows.Count; r++)
        {
            int top = headerH + r * rowH;
            BitmapFont.Draw(sheet, gap, top, rows[r].Prompt, Ink, textScale);
            int frameTop = top + textH + gap;
            for (int c = 0; c < columns.Count; c++)
            {
                var verdict = rows[r].Correct[c] ? CorrectColour : WrongColour;
                int frameLeft = CellLeft(c);
                Fill(sheet, frameLeft, frameTop, imageW + 2 * Frame, imageH + 2 * Frame, verdict);
                Blit(sheet, rows[r].Images[c].Validate(), frameLeft + Frame, frameTop + Frame, scale);
                BitmapFont.Draw(sheet, frameLeft, frameTop + imageH + 2 * Frame + gap, rows[r].Correct[c] ? CorrectLabel : WrongLabel, verdict, textScale);
            }
        }
        return sheet;

        int CellLeft(int column) => gap + column * (cellW + gap);
    }

    static void Fill(DecodedImage sheet, int left, int top, int w, int h, (byte R, byte G, byte B) colour)
    {
        for (int y = top; y < top + h; y++)
        {
            for (int x = left; x < left + w; x++)
            {
                int at = (y * sheet.Width + x) * 3;
                sheet.Rgb[at] = colour.R;
                sheet.Rgb[at + 1] = colour.G;
                sheet.Rgb[at + 2] = colour.B;
            }
        }
    }

    static void Blit(DecodedImage sheet, DecodedImage image, int left, int top, int scale)
    {
        for (int y = 0; y < image.Height * scale; y++)
        {
            for (int x = 0; x < image.Width * scale; x++)
            {
                int source = ((y / scale) * image.Width + x / scale) * 3;
                int target = ((top + y) * sheet.Width + left + x) * 3;
                sheet.Rgb[target] = image.Rgb[source];
                sheet.Rgb[target + 1] = image.Rgb[source + 1];
                sheet.Rgb[target + 2] = image.Rgb[source + 2];
            }
        }
    }
}
