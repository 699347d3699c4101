namespace Glance.Engine.Serving;

/// <summary>An 8-bit RGB image, rows top to bottom, 3 bytes per pixel; free of any tensor.</summary>
public sealed record DecodedImage(int Width, int Height, byte[] Rgb)
{
    public DecodedImage Validate()
    {
        if (Rgb.Length != Width * Height * 3)
            throw new ArgumentException($"RGB buffer holds {Rgb.Length} bytes; a {Width}x{Height} image needs {Width * Height * 3}.");
        return this;
    }
}
