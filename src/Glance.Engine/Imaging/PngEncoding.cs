using Glance.Engine.Serving;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Glance.Engine.Imaging;

/// <summary>PNG encoding and decoding of <see cref="DecodedImage"/>; pure CPU work, safe off the engine thread.</summary>
public static class PngEncoding
{
    static readonly PngEncoder Encoder = new() { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8 };

    public static byte[] Encode(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        image.Validate();
        using var png = Image.LoadPixelData<Rgb24>(image.Rgb, image.Width, image.Height);
        using var stream = new MemoryStream();
        png.Save(stream, Encoder);
        return stream.ToArray();
    }

    public static DecodedImage Decode(Stream stream)
    {
        using var image = Image.Load<Rgb24>(stream);
        var rgb = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(rgb);
        return new DecodedImage(image.Width, image.Height, rgb);
    }

    public static DecodedImage Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Decode(stream);
    }
}
