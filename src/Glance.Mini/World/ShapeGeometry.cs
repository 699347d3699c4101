namespace Glance.Mini.World;

/// <summary>
/// Point-in-shape tests in unit coordinates: (u, v) is the offset from the object's anchor divided by its radius,
/// v growing downwards. Every shape spans [-1, 1] on both axes except the square, whose side is 1.8 so its area
/// is close to the circle's. Shared by the renderer and the detector's template fit so both agree exactly.
/// </summary>
public static class ShapeGeometry
{
    public const double SquareHalfSide = 0.9;
    public const double CrossArmHalfWidth = 0.36;

    public static bool Contains(SceneShape shape, double u, double v) => shape switch
    {
        SceneShape.Circle => (u * u) + (v * v) <= 1,
        SceneShape.Square => Math.Abs(u) <= SquareHalfSide && Math.Abs(v) <= SquareHalfSide,
        // Upward triangle: apex at (0, -1), base from (-1, 1) to (1, 1).
        SceneShape.Triangle => v <= 1 && Math.Abs(u) <= (v + 1) / 2,
        SceneShape.Cross => (Math.Abs(u) <= CrossArmHalfWidth && Math.Abs(v) <= 1)
                            || (Math.Abs(v) <= CrossArmHalfWidth && Math.Abs(u) <= 1),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Not a shape of the world."),
    };

    /// <summary>Area in squared radius units.</summary>
    public static double UnitArea(SceneShape shape) => shape switch
    {
        SceneShape.Circle => Math.PI,
        SceneShape.Square => 4 * SquareHalfSide * SquareHalfSide,
        SceneShape.Triangle => 2,
        SceneShape.Cross => (2 * (2 * 2 * CrossArmHalfWidth)) - (4 * CrossArmHalfWidth * CrossArmHalfWidth),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Not a shape of the world."),
    };

    /// <summary>Vertical offset of the area centroid below the anchor, in radius units (only the triangle's is off-centre).</summary>
    public static double CentroidDrop(SceneShape shape) => shape == SceneShape.Triangle ? 1.0 / 3 : 0;

    /// <summary>Half-extent of the shape's bounding box in radius units.</summary>
    public static double HalfExtent(SceneShape shape) => shape == SceneShape.Square ? SquareHalfSide : 1;

    /// <summary>
    /// Fraction of the pixel [x, x+1) x [y, y+1) inside the shape, by an n x n grid of sample points.
    /// Coordinates are in pixels; the anchor (cx, cy) and radius r too.
    /// </summary>
    public static double PixelCoverage(SceneShape shape, double cx, double cy, double r, int x, int y, int samplesPerAxis)
    {
        var inside = 0;
        for (var j = 0; j < samplesPerAxis; j++)
        {
            var v = (y + ((j + 0.5) / samplesPerAxis) - cy) / r;
            for (var i = 0; i < samplesPerAxis; i++)
            {
                var u = (x + ((i + 0.5) / samplesPerAxis) - cx) / r;
                if (Contains(shape, u, v))
                    inside++;
            }
        }
        return inside / (double)(samplesPerAxis * samplesPerAxis);
    }
}
