using Glance.Engine.Serving;

namespace Glance.Mini.World;

/// <summary>A colour in continuous RGB (0..255 per channel) for averaging and projecting pixel values.</summary>
public readonly record struct RgbVector(double R, double G, double B)
{
    public static RgbVector From(Rgb colour) => new(colour.R, colour.G, colour.B);

    public static RgbVector At(DecodedImage image, int pixel)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new(image.Rgb[3 * pixel], image.Rgb[(3 * pixel) + 1], image.Rgb[(3 * pixel) + 2]);
    }

    public RgbVector Minus(RgbVector other) => new(R - other.R, G - other.G, B - other.B);

    public RgbVector Plus(RgbVector other) => new(R + other.R, G + other.G, B + other.B);

    public RgbVector Times(double factor) => new(R * factor, G * factor, B * factor);

    public double Dot(RgbVector other) => (R * other.R) + (G * other.G) + (B * other.B);

    public double Length => Math.Sqrt(Dot(this));
}
