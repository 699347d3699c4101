using Glance.Engine.Serving;

namespace Glance.Mini.World;

/// <summary>
/// Deterministic corruptions that stand in for a generator's imperfections when checking that the detector
/// is robust: additive Gaussian noise and a 3x3 box blur.
/// </summary>
public static class ImageDegradation
{
    /// <summary>Adds N(0, sigma) per channel, sigma as a fraction of the 0..255 range; clamps to bytes.</summary>
    public static DecodedImage AddGaussianNoise(DecodedImage image, double sigma, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(image);
        var random = new SceneRandom(seed);
        var rgb = new byte[image.Rgb.Length];
        for (var i = 0; i < rgb.Length; i++)
        {
            // Box-Muller; 1 - u keeps the logarithm's argument away from zero.
            var u = 1 - random.NextDouble();
            var gaussian = Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble());
            rgb[i] = (byte)Math.Clamp(Math.Round(image.Rgb[i] + (gaussian * sigma * 255)), 0, 255);
        }
        return new DecodedImage(image.Width, image.Height, rgb);
    }

    /// <summary>Mean over each pixel's 3x3 neighbourhood, edges clamped.</summary>
    public static DecodedImage BoxBlur3(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int w = image.Width, h = image.Height;
        var rgb = new byte[image.Rgb.Length];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var sum = 0;
                    for (var dy = -1; dy <= 1; dy++)
                    {
                        for (var dx = -1; dx <= 1; dx++)
                        {
                            var sx = Math.Clamp(x + dx, 0, w - 1);
                            var sy = Math.Clamp(y + dy, 0, h - 1);
                            sum += image.Rgb[(3 * ((sy * w) + sx)) + c];
                        }
                    }
                    rgb[(3 * ((y * w) + x)) + c] = (byte)Math.Round(sum / 9.0);
                }
            }
        }
        return new DecodedImage(w, h, rgb);
    }
}
