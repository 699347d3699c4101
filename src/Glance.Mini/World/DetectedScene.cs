namespace Glance.Mini.World;

[Flags]
public enum DetectionNotes
{
    None = 0,
    /// <summary>Nothing stands out from the background; attributes other than the background are null.</summary>
    NoObject = 1,
    /// <summary>A second blob at least a quarter the size of the main one.</summary>
    SeveralObjects = 2,
    /// <summary>The main blob reaches the image border (the world never draws that).</summary>
    TouchesBorder = 4,
    /// <summary>The object's colour is far from every palette colour (even allowing for blending with the background).</summary>
    OffPaletteColour = 8,
    /// <summary>The best and second-best shape templates fit almost equally well.</summary>
    AmbiguousShape = 16,
    /// <summary>The border colour is far from both palette backgrounds.</summary>
    OffPaletteBackground = 32,
}

/// <summary>
/// What <see cref="SceneDetector"/> read from an image. Attributes are null when no object was found.
/// ShapeFit is the soft IoU of the best shape template (1 = perfect), ShapeMargin its lead over the runner-up;
/// ColourError is the RGB distance to the chosen palette colour's blend line; CentreX/CentreY (coverage-weighted
/// centroid) and Extent (larger bounding-box side) are fractions of the image side.
/// </summary>
public sealed record DetectedScene(
    SceneShape? Shape,
    SceneColour? Colour,
    ScenePosition? Position,
    SceneSize? Size,
    SceneBackground? Background,
    double ShapeFit,
    double ShapeMargin,
    double ColourError,
    double CentreX,
    double CentreY,
    double Extent,
    DetectionNotes Notes);
