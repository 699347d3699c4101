using Glance.Engine.Serving;

namespace Glance.Mini.Evaluation;

/// <summary>Pixel-level comparisons of 8-bit images.</summary>
public static class ImageMetrics
{
    /// <summary>Peak signal-to-noise ratio in dB over all RGB values; identical images give +infinity.</summary>
    public static double Psnr(DecodedImage a, DecodedImage b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Width != b.Width || a.Height != b.Height)
            throw new ArgumentException($"PSNR needs equal sizes; received {a.Width}x{a.Height} and {b.Width}x{b.Height}.");
        double sum = 0;
        for (int i = 0; i < a.Rgb.Length; i++)
        {
            double d = a.Rgb[i] - b.Rgb[i];
            sum += d * d;
        }
        double mse = sum / a.Rgb.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }
}
