namespace Glance.Mini.World;

/// <summary>An 8-bit sRGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public double DistanceTo(Rgb other)
    {
        double dr = R - other.R, dg = G - other.G, db = B - other.B;
        return Math.Sqrt((dr * dr) + (dg * dg) + (db * db));
    }
}

/// <summary>
/// Exact colours of the world. Chosen so every object colour is at least ~80 RGB units from every other and
/// ~115 from both backgrounds; the gray is darkish so white objects stay clearly separated from it.
/// </summary>
public static class ScenePalette
{
    public static Rgb Of(SceneColour colour) => colour switch
    {
        SceneColour.Red => new(215, 35, 35),
        SceneColour.Green => new(30, 200, 50),
        SceneColour.Blue => new(50, 90, 235),
        SceneColour.Yellow => new(240, 225, 40),
        SceneColour.Magenta => new(210, 50, 210),
        SceneColour.Cyan => new(50, 210, 220),
        SceneColour.Orange => new(245, 130, 20),
        SceneColour.White => new(245, 245, 245),
        _ => throw new ArgumentOutOfRangeException(nameof(colour), colour, "Not a colour of the world."),
    };

    public static Rgb Of(SceneBackground background) => background switch
    {
        SceneBackground.Black => new(10, 10, 10),
        SceneBackground.Gray => new(110, 110, 110),
        _ => throw new ArgumentOutOfRangeException(nameof(background), background, "Not a background of the world."),
    };
}
