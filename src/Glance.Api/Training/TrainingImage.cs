using Glance.Engine.Serving;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Glance.Api.Training;

/// <summary>
/// The one training image of a set: PNG or JPEG only (ImageSharp configured with those two decoders alone), its declared
/// size checked from the header before any pixel is decoded, then brought to a size the model trains at.
/// </summary>
internal static class TrainingImage
{
    static readonly Configuration PngAndJpeg = new(new PngConfigurationModule(), new JpegConfigurationModule());

    /// <summary>A decoded image, or why not: 415 for anything but PNG or JPEG, 422 for a broken or oversized one.</summary>
    public sealed record Outcome(DecodedImage? Image, int Status, string? Problem, int SourceWidth = 0, int SourceHeight = 0);

    public static Outcome Read(Stream content, long maxPixels, EngineDescription engine)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(engine);
        IImageInfo? info;
        try
        {
            info = Image.Identify(PngAndJpeg, content, out IImageFormat? _);
        }
        catch (Exception e) when (e is UnknownImageFormatException or NotSupportedException)
        {
            info = null;
        }
        catch (Exception e) when (e is InvalidImageContentException or ImageFormatException)
        {
            return new Outcome(null, StatusCodes.Status422UnprocessableEntity, $"The image could not be read: {e.Message}");
        }
        if (info is null)
            return new Outcome(null, StatusCodes.Status415UnsupportedMediaType, "The training image must be a PNG or a JPEG file.");
        long pixels = (long)info.Width * info.Height;
        if (info.Width < 1 || info.Height < 1 || pixels > maxPixels)
            return new Outcome(null, StatusCodes.Status422UnprocessableEntity,
                $"The image declares {info.Width}x{info.Height} pixels; at most {maxPixels} pixels (Glance:Training:MaxImagePixels) are accepted.");
        content.Position = 0;
        try
        {
            using var image = Image.Load<Rgb24>(PngAndJpeg, content);
            var (width, height) = TrainingSize(image.Width, image.Height, engine);
            if ((width, height) != (image.Width, image.Height)) image.Mutate(x => x.Resize(width, height, KnownResamplers.Lanczos3));
            var rgb = new byte[width * height * 3];
            image.CopyPixelDataTo(rgb);
            return new Outcome(new DecodedImage(width, height, rgb), StatusCodes.Status200OK, null, info.Width, info.Height);
        }
        catch (Exception e) when (e is InvalidImageContentException or ImageFormatException or UnknownImageFormatException or NotSupportedException)
        {
            return new Outcome(null, StatusCodes.Status422UnprocessableEntity, $"The image could not be decoded: {e.Message}");
        }
    }

    /// <summary>
    /// The size an image trains at: no larger in area than the model's default size (the recipes train at it), no side
    /// below the model's minimum or above its maximum, each side a multiple of its pixels per token; the aspect ratio is
    /// kept as closely as those allow.
    /// </summary>
    public static (int Width, int Height) TrainingSize(int width, int height, EngineDescription engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        double area = (double)engine.DefaultWidth * engine.DefaultHeight;
        double scale = Math.Min(1.0, Math.Sqrt(area / ((double)width * height)));
        scale = Math.Max(scale, (double)engine.MinSize / Math.Min(width, height));
        scale = Math.Min(scale, (double)engine.MaxSize / Math.Max(width, height));
        int cell = engine.SizeMultiple;
        int Side(int side) => Math.Clamp((int)Math.Round(side * scale / cell) * cell, engine.MinSize, engine.MaxSize);
        return (Side(width), Side(height));
    }
}
