using Glance.Engine.Serving;

namespace Glance.Mini.World;

/// <summary>
/// Reads a scene's attributes back from an image by classical analysis, for scoring generated images:
/// background from the border; a rough foreground mask by colour distance from it; the object's colour from
/// the most saturated pixels of the largest blob; then a per-pixel coverage (projection onto the
/// background-to-object colour line). Its 0.5 level set gives the blob and its bounding box (size); its
/// moments around the blob give the centroid (grid cell) and area, which place the templates that name the
/// shape. Tuned for 64x64 images; at 32x32 small blurred objects lose their shape.
/// </summary>
public static class SceneDetector
{
    /// <summary>Fewer pixels than this above the rough threshold means no object.</summary>
    const int MinObjectPixels = 4;

    /// <summary>Rough foreground threshold in RGB distance; palette colours sit at least ~115 from both backgrounds.</summary>
    const double MinForegroundDistance = 45;

    /// <summary>Noise scaling for the rough threshold: the median border deviation times this.</summary>
    const double NoiseFactor = 3;

    const double AmbiguousShapeMargin = 0.03;

    /// <summary>Pixels around the blob's box that blur may have spread its coverage into.</summary>
    const int RegionMargin = 2;

    const double OffPaletteBackgroundDistance = 60;

    public static DetectedScene Detect(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        image.Validate();
        int width = image.Width, height = image.Height, pixels = width * height;
        var estimate = BackgroundEstimate.FromBorder(image);
        var background = estimate.Colour;
        var (backgroundName, backgroundError) = ColourClassifier.NearestBackground(background);
        var notes = backgroundError > OffPaletteBackgroundDistance ? DetectionNotes.OffPaletteBackground : DetectionNotes.None;

        var distance = new double[pixels];
        var rough = new bool[pixels];
        var threshold = Math.Max(MinForegroundDistance, NoiseFactor * estimate.TypicalDeviation);
        for (var i = 0; i < pixels; i++)
        {
            distance[i] = RgbVector.At(image, i).Minus(background).Length;
            rough[i] = distance[i] > threshold;
        }
        var roughBlobs = ConnectedComponents.Label(rough, width, height);
        var roughLabel = roughBlobs.Largest();
        if (roughLabel == 0 || roughBlobs.Sizes[roughLabel] < MinObjectPixels)
            return NoObject(backgroundName, notes);

        var objectColour = CoreColour(image, distance, roughBlobs.Labels, roughLabel);
        var (colourName, colourError) = ColourClassifier.Nearest(objectColour, background);
        if (colourError > ColourClassifier.OffPaletteDistance)
            notes |= DetectionNotes.OffPaletteColour;

        // Coverage: how far along the background-to-object colour line each pixel lies; anti-aliasing and
        // blur make edge pixels partial, and 0.5 recovers the sharp outline.
        var direction = objectColour.Minus(background);
        var squared = Math.Max(direction.Dot(direction), 1);
        var coverage = new double[pixels];
        var solid = new bool[pixels];
        for (var i = 0; i < pixels; i++)
        {
            coverage[i] = RgbVector.At(image, i).Minus(background).Dot(direction) / squared;
            solid[i] = coverage[i] > 0.5;
        }
        var blobs = ConnectedComponents.Label(solid, width, height);
        var label = blobs.Largest();
        if (label == 0)
            return NoObject(backgroundName, notes);
        if (blobs.LargestOtherThan(label) * 4 >= blobs.Sizes[label])
            notes |= DetectionNotes.SeveralObjects;

        // Keep only this blob's neighbourhood: other solid blobs are zeroed so they cannot pull the centroid or fit.
        var box = (X0: width, Y0: height, X1: -1, Y1: -1);
        for (var i = 0; i < pixels; i++)
        {
            if (blobs.Labels[i] == label)
            {
                int x = i % width, y = i / width;
                box = (Math.Min(box.X0, x), Math.Min(box.Y0, y), Math.Max(box.X1, x), Math.Max(box.Y1, y));
            }
            else if (blobs.Labels[i] != 0)
            {
                coverage[i] = 0;
            }
        }
        if (box.X0 == 0 || box.Y0 == 0 || box.X1 == width - 1 || box.Y1 == height - 1)
            notes |= DetectionNotes.TouchesBorder;

        var region = (
            X0: Math.Max(0, box.X0 - RegionMargin), Y0: Math.Max(0, box.Y0 - RegionMargin),
            X1: Math.Min(width - 1, box.X1 + RegionMargin), Y1: Math.Min(height - 1, box.Y1 + RegionMargin));
        // Unclamped coverage keeps mass and centroid unbiased under noise; the template fit wants [0, 1].
        var (mass, centreX, centreY) = Moments(coverage, width, region);
        for (var i = 0; i < pixels; i++)
            coverage[i] = Math.Clamp(coverage[i], 0, 1);
        var extent = Math.Max((box.X1 + 1 - box.X0) / (double)width, (box.Y1 + 1 - box.Y0) / (double)height);
        var (shape, fit, margin) = ShapeFit.Best(coverage, width, region, centreX, centreY, mass);
        if (margin < AmbiguousShapeMargin)
            notes |= DetectionNotes.AmbiguousShape;
        (centreX, centreY) = (centreX / width, centreY / height);

        return new DetectedScene(
            shape, colourName, SceneLayout.CellAt(centreX, centreY),
            extent > SceneLayout.SmallLargeBoundary ? SceneSize.Large : SceneSize.Small,
            backgroundName, fit, margin, colourError, centreX, centreY, extent, notes);
    }

    static DetectedScene NoObject(SceneBackground background, DetectionNotes notes) =>
        new(null, null, null, null, background, 0, 0, double.NaN, double.NaN, double.NaN, 0, notes | DetectionNotes.NoObject);

    /// <summary>Mean colour of the blob's pixels within 75% of its 90th-percentile distance from the background.</summary>
    static RgbVector CoreColour(DecodedImage image, double[] distance, int[] labels, int label)
    {
        var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == label).ToArray();
        var sorted = members.Select(i => distance[i]).Order().ToArray();
        var cutoff = 0.75 * sorted[(int)(0.9 * (sorted.Length - 1))];
        var sum = new RgbVector(0, 0, 0);
        var count = 0;
        foreach (var i in members.Where(i => distance[i] >= cutoff))
        {
            sum = sum.Plus(RgbVector.At(image, i));
            count++;
        }
        return sum.Times(1.0 / count);
    }

    /// <summary>Coverage mass and centroid (in pixels) over the region.</summary>
    static (double Mass, double X, double Y) Moments(double[] coverage, int width, (int X0, int Y0, int X1, int Y1) region)
    {
        double mass = 0, sumX = 0, sumY = 0;
        for (var y = region.Y0; y <= region.Y1; y++)
        {
            for (var x = region.X0; x <= region.X1; x++)
            {
                var weight = coverage[(y * width) + x];
                mass += weight;
                sumX += weight * (x + 0.5);
                sumY += weight * (y + 0.5);
            }
        }
        // A blob always has solid pixels, so the mass is positive unless noise is extreme; fall back to the box centre.
        return mass > 0
            ? (mass, sumX / mass, sumY / mass)
            : (0, (region.X0 + region.X1 + 1) / 2.0, (region.Y0 + region.Y1 + 1) / 2.0);
    }
}
