namespace Glance.Mini.World;

/// <summary>
/// Where and how big objects are, as fractions of the image side. Cell centres sit at 0.2/0.5/0.8 rather than
/// the cell middles (1/6, 1/2, 5/6) so a large object in a corner cell stays fully inside the image even at
/// maximal jitter, while every centre keeps more than 0.1 of the side from the cell boundaries at 1/3 and 2/3.
/// </summary>
public static class SceneLayout
{
    public const double SmallRadius = 0.075;
    public const double LargeRadius = 0.16;
    public const double MaxOffset = 0.025;
    public const double MinScale = 0.92;
    public const double MaxScale = 1.08;

    /// <summary>Largest bounding-box side (fraction of the image) that still reads as small; see the radii above.</summary>
    public const double SmallLargeBoundary = 0.21;

    static readonly double[] CellCentres = [0.2, 0.5, 0.8];

    public static (double X, double Y) Centre(ScenePosition position)
    {
        var cell = (int)position;
        if (cell is < 0 or > 8)
            throw new ArgumentOutOfRangeException(nameof(position), position, "Not a grid cell of the world.");
        return (CellCentres[cell % 3], CellCentres[cell / 3]);
    }

    public static double Radius(SceneSize size) => size switch
    {
        SceneSize.Small => SmallRadius,
        SceneSize.Large => LargeRadius,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Not a size of the world."),
    };

    /// <summary>The grid cell holding a point given as fractions of the image side.</summary>
    public static ScenePosition CellAt(double x, double y)
    {
        var column = Math.Clamp((int)Math.Floor(x * 3), 0, 2);
        var row = Math.Clamp((int)Math.Floor(y * 3), 0, 2);
        return (ScenePosition)((row * 3) + column);
    }
}
