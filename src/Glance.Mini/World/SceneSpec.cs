namespace Glance.Mini.World;

/// <summary>
/// One image of the glance-mini world: a single object on a plain background. The jitter fields are
/// fractions of the image side (offsets) and a multiplier of the nominal radius (scale), so a spec renders
/// identically at any resolution and the render is a pure function of the spec.
/// </summary>
public sealed record SceneSpec(
    SceneShape Shape,
    SceneColour Colour,
    ScenePosition Position,
    SceneSize Size,
    SceneBackground Background,
    double OffsetX = 0,
    double OffsetY = 0,
    double Scale = 1)
{
    public SceneTriple Triple => new(Shape, Colour, Position);

    public string Caption => SceneCaption.Describe(this);
}

/// <summary>The (shape, colour, position) combination the held-out split is defined over.</summary>
public readonly record struct SceneTriple(SceneShape Shape, SceneColour Colour, ScenePosition Position);
