using Glance.Engine.Serving;

namespace Glance.Engine.Imaging;

/// <summary>
/// Conversion between 8-bit images and the channels-first float layout the model trains on:
/// [3, H, W] flattened, values in [-1, 1] (0 maps to -1, 255 to +1).
/// </summary>
public static class PixelArrays
{
    public static float[] ToSignedUnitChw(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        image.Validate();
        var plane = image.Width * image.Height;
        var values = new float[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < 3; c++)
                values[(c * plane) + i] = (image.Rgb[(3 * i) + c] / 127.5f) - 1f;
        }
        return values;
    }

    /// <summary>Inverse of <see cref="ToSignedUnitChw"/>; values outside [-1, 1] are clamped.</summary>
    public static DecodedImage FromSignedUnitChw(ReadOnlySpan<float> values, int width, int height)
    {
        var plane = width * height;
        if (values.Length != 3 * plane)
            throw new ArgumentException($"Got {values.Length} values; a [3, {height}, {width}] image needs {3 * plane}.", nameof(values));
        var rgb = new byte[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                var scaled = (Math.Clamp(values[(c * plane) + i], -1f, 1f) + 1f) * 127.5f;
                rgb[(3 * i) + c] = (byte)MathF.Round(scaled, MidpointRounding.AwayFromZero);
            }
        }
        return new DecodedImage(width, height, rgb);
    }
}
