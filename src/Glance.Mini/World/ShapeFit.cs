namespace Glance.Mini.World;

/// <summary>
/// Names a blob's shape by template matching. Each shape of the world is placed so that its area equals the
/// blob's coverage mass and its centroid the blob's centroid — both unchanged by blur and unbiased under noise,
/// unlike the bounding box — then nudged by small shifts and scalings, and compared with the measured coverage
/// by soft IoU, sum(min) / sum(max). The best-fitting shape wins.
/// </summary>
public static class ShapeFit
{
    const int SamplesPerAxis = 3;
    static readonly double[] Scales = [0.9, 0.95, 1.0, 1.05];
    static readonly double[] Shifts = [0];

    /// <param name="coverage">Per-pixel object coverage clamped to [0, 1], row-major, width x height.</param>
    /// <param name="region">Pixels to compare over, inclusive; should hold the whole blob with a margin.</param>
    /// <param name="centreX">Blob centroid in pixels.</param>
    /// <param name="centreY">Blob centroid in pixels.</param>
    /// <param name="mass">Blob area in pixels (sum of coverage).</param>
    public static (SceneShape Shape, double Fit, double Margin) Best(
        double[] coverage, int width, (int X0, int Y0, int X1, int Y1) region, double centreX, double centreY, double mass)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        var scores = new List<(SceneShape Shape, double Fit)>();
        foreach (var shape in Enum.GetValues<SceneShape>())
        {
            var radius = Math.Sqrt(Math.Max(mass, 1) / ShapeGeometry.UnitArea(shape));
            var best = 0.0;
            foreach (var scale in Scales)
            {
                var r = radius * scale;
                var anchorY = centreY - (ShapeGeometry.CentroidDrop(shape) * r);
                foreach (var dy in Shifts)
                {
                    foreach (var dx in Shifts)
                        best = Math.Max(best, SoftIou(coverage, width, region, shape, centreX + dx, anchorY + dy, r));
                }
            }
            scores.Add((shape, best));
        }
        var ranked = scores.OrderByDescending(s => s.Fit).ToList();
        return (ranked[0].Shape, ranked[0].Fit, ranked[0].Fit - ranked[1].Fit);
    }

    static double SoftIou(double[] coverage, int width, (int X0, int Y0, int X1, int Y1) region,
        SceneShape shape, double cx, double cy, double radius)
    {
        double intersection = 0, union = 0;
        for (var y = region.Y0; y <= region.Y1; y++)
        {
            for (var x = region.X0; x <= region.X1; x++)
            {
                var template = ShapeGeometry.PixelCoverage(shape, cx, cy, radius, x, y, SamplesPerAxis);
                var measured = coverage[(y * width) + x];
                intersection += Math.Min(template, measured);
                union += Math.Max(template, measured);
            }
        }
        return union == 0 ? 0 : intersection / union;
    }
}
