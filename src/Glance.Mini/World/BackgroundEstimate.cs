using Glance.Engine.Serving;

namespace Glance.Mini.World;

/// <summary>
/// The background colour and noise level read from a two-pixel border ring. Medians keep both robust to an
/// object or a stray blob touching the border.
/// </summary>
public readonly record struct BackgroundEstimate(RgbVector Colour, double TypicalDeviation)
{
    const int Ring = 2;

    public static BackgroundEstimate FromBorder(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var border = new List<int>();
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                if (x < Ring || y < Ring || x >= image.Width - Ring || y >= image.Height - Ring)
                    border.Add((y * image.Width) + x);
            }
        }
        var colour = new RgbVector(
            Median(border.Select(i => (double)image.Rgb[3 * i])),
            Median(border.Select(i => (double)image.Rgb[(3 * i) + 1])),
            Median(border.Select(i => (double)image.Rgb[(3 * i) + 2])));
        var deviation = Median(border.Select(i => RgbVector.At(image, i).Minus(colour).Length));
        return new BackgroundEstimate(colour, deviation);
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
    }
}
