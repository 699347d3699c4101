namespace Glance.Mini.World;

/// <summary>
/// Names an object's measured colour. A small or blurred object's pixels are partly mixed with the background,
/// so each palette colour is represented by its blend line towards the background (60% to 100% object) and the
/// nearest line wins, rather than the nearest point.
/// </summary>
public static class ColourClassifier
{
    const double MinBlend = 0.6;

    /// <summary>Beyond this RGB distance from every blend line the colour is flagged as off-palette.</summary>
    public const double OffPaletteDistance = 60;

    public static (SceneColour Colour, double Error) Nearest(RgbVector measured, RgbVector background)
    {
        var best = SceneColour.Red;
        var bestError = double.PositiveInfinity;
        foreach (var colour in Enum.GetValues<SceneColour>())
        {
            var error = DistanceToBlendLine(measured, background, RgbVector.From(ScenePalette.Of(colour)));
            if (error < bestError)
                (best, bestError) = (colour, error);
        }
        return (best, bestError);
    }

    public static (SceneBackground Background, double Error) NearestBackground(RgbVector measured)
    {
        var best = SceneBackground.Black;
        var bestError = double.PositiveInfinity;
        foreach (var background in Enum.GetValues<SceneBackground>())
        {
            var error = measured.Minus(RgbVector.From(ScenePalette.Of(background))).Length;
            if (error < bestError)
                (best, bestError) = (background, error);
        }
        return (best, bestError);
    }

    static double DistanceToBlendLine(RgbVector measured, RgbVector background, RgbVector colour)
    {
        var direction = colour.Minus(background);
        var squared = direction.Dot(direction);
        var blend = squared == 0 ? 1 : Math.Clamp(measured.Minus(background).Dot(direction) / squared, MinBlend, 1);
        return measured.Minus(background.Plus(direction.Times(blend))).Length;
    }
}
