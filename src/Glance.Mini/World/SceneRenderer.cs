using Glance.Engine.Serving;

namespace Glance.Mini.World;

/// <summary>
/// Draws a scene: a flat background and one flat-coloured object, anti-aliased by blending each pixel between
/// the two colours by the object's coverage of that pixel (4x4 sample points).
/// </summary>
public static class SceneRenderer
{
    public const int SamplesPerAxis = 4;

    public static DecodedImage Render(SceneSpec scene, int size = 64)
    {
        ArgumentNullException.ThrowIfNull(scene);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        var (cx, cy, r) = Placement(scene, size);
        var background = ScenePalette.Of(scene.Background);
        var colour = ScenePalette.Of(scene.Colour);
        var rgb = new byte[size * size * 3];
        for (var i = 0; i < size * size; i++)
        {
            rgb[(3 * i) + 0] = background.R;
            rgb[(3 * i) + 1] = background.G;
            rgb[(3 * i) + 2] = background.B;
        }

        // Only pixels within the object's bounding box (plus one for safety) can be covered.
        var x0 = Math.Max(0, (int)Math.Floor(cx - r) - 1);
        var x1 = Math.Min(size - 1, (int)Math.Ceiling(cx + r) + 1);
        var y0 = Math.Max(0, (int)Math.Floor(cy - r) - 1);
        var y1 = Math.Min(size - 1, (int)Math.Ceiling(cy + r) + 1);
        for (var y = y0; y <= y1; y++)
        {
            for (var x = x0; x <= x1; x++)
            {
                var coverage = ShapeGeometry.PixelCoverage(scene.Shape, cx, cy, r, x, y, SamplesPerAxis);
                if (coverage <= 0)
                    continue;
                var at = 3 * ((y * size) + x);
                rgb[at + 0] = Blend(background.R, colour.R, coverage);
                rgb[at + 1] = Blend(background.G, colour.G, coverage);
                rgb[at + 2] = Blend(background.B, colour.B, coverage);
            }
        }
        return new DecodedImage(size, size, rgb);
    }

    /// <summary>The object's anchor and radius in pixels of a size x size image.</summary>
    public static (double X, double Y, double Radius) Placement(SceneSpec scene, int size)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var (x, y) = SceneLayout.Centre(scene.Position);
        return ((x + scene.OffsetX) * size, (y + scene.OffsetY) * size, SceneLayout.Radius(scene.Size) * scene.Scale * size);
    }

    static byte Blend(byte from, byte to, double amount) =>
        (byte)Math.Round(from + ((to - from) * amount), MidpointRounding.AwayFromZero);
}
