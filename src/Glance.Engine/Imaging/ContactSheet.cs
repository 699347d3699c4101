using Glance.Engine.Serving;

namespace Glance.Engine.Imaging;

/// <summary>Lays images out in a grid (rows x columns), each scaled up by pixel repetition, on a white ground.</summary>
public static class ContactSheet
{
    public static DecodedImage Compose(IReadOnlyList<IReadOnlyList<DecodedImage>> rows, int scale = 2, int gap = 4)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0 || rows[0].Count == 0) throw new ArgumentException("A contact sheet needs at least one image.", nameof(rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        int cellW = rows.SelectMany(r => r).Max(i => i.Width) * scale;
        int cellH = rows.SelectMany(r => r).Max(i => i.Height) * scale;
        int columns = rows.Max(r => r.Count);
        int width = columns * cellW + (columns + 1) * gap;
        int height = rows.Count * cellH + (rows.Count + 1) * gap;
        var rgb = new byte[width * height * 3];
        Array.Fill(rgb, (byte)255);
        for (int r = 0; r < rows.Count; r++)
        {
            for (int c = 0; c < rows[r].Count; c++)
            {
                var image = rows[r][c].Validate();
                int left = gap + c * (cellW + gap), top = gap + r * (cellH + gap);
                for (int y = 0; y < image.Height * scale; y++)
                {
                    for (int x = 0; x < image.Width * scale; x++)
                    {
                        int source = ((y / scale) * image.Width + x / scale) * 3;
                        int target = ((top + y) * width + left + x) * 3;
                        rgb[target] = image.Rgb[source];
                        rgb[target + 1] = image.Rgb[source + 1];
                        rgb[target + 2] = image.Rgb[source + 2];
                    }
                }
            }
        }
        return new DecodedImage(width, height, rgb);
    }
}
