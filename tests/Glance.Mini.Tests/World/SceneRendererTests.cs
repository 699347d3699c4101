using Glance.Engine.Imaging;
using Glance.Mini.World;

namespace Glance.Mini.Tests.World;

public class SceneRendererTests
{
    [Fact]
    public void ObjectColourFillsItsCentreAndBackgroundItsCorners()
    {
        var scene = new SceneSpec(SceneShape.Square, SceneColour.Orange, ScenePosition.Center, SceneSize.Large, SceneBackground.Gray);
        var image = SceneRenderer.Render(scene);
        Assert.Equal(ScenePalette.Of(SceneColour.Orange), PixelAt(image, 32, 32));
        Assert.Equal(ScenePalette.Of(SceneBackground.Gray), PixelAt(image, 0, 0));
        Assert.Equal(ScenePalette.Of(SceneBackground.Gray), PixelAt(image, 63, 63));
    }

    [Fact]
    public void EdgesAreAntiAliased()
    {
        var scene = new SceneSpec(SceneShape.Circle, SceneColour.White, ScenePosition.Center, SceneSize.Large, SceneBackground.Black);
        var image = SceneRenderer.Render(scene);
        var partial = Enumerable.Range(0, 64 * 64).Count(i => image.Rgb[3 * i] is > 10 and < 245);
        Assert.True(partial > 20, $"Only {partial} edge pixels are blended.");
    }

    [Fact]
    public void EveryShapeStaysInsideTheImageAtExtremeJitter()
    {
        foreach (var shape in Enum.GetValues<SceneShape>())
        {
            foreach (var position in Enum.GetValues<ScenePosition>())
            {
                foreach (var (dx, dy) in new[] { (-1, -1), (-1, 1), (1, -1), (1, 1) })
                {
                    var scene = new SceneSpec(shape, SceneColour.Red, position, SceneSize.Large, SceneBackground.Black,
                        dx * SceneLayout.MaxOffset, dy * SceneLayout.MaxOffset, SceneLayout.MaxScale);
                    var (x, y, r) = SceneRenderer.Placement(scene, 64);
                    var half = r * ShapeGeometry.HalfExtent(shape);
                    Assert.True(x - half >= 0 && y - half >= 0 && x + half <= 64 && y + half <= 64, $"{scene} leaves the image.");
                }
            }
        }
    }

    [Fact]
    public void SignedUnitArraysAreChannelsFirstAndRoundTrip()
    {
        var image = SceneRenderer.Render(new SceneSampler(5, SceneSplit.HeldOut).Sample(0), 32);
        var values = PixelArrays.ToSignedUnitChw(image);
        Assert.Equal(3 * 32 * 32, values.Length);
        Assert.All(values, v => Assert.InRange(v, -1f, 1f));
        // Green of pixel (x=3, y=2) sits in plane 1.
        Assert.Equal((image.Rgb[3 * ((2 * 32) + 3) + 1] / 127.5f) - 1f, values[(1 * 32 * 32) + (2 * 32) + 3]);
        Assert.Equal(image.Rgb, PixelArrays.FromSignedUnitChw(values, 32, 32).Rgb);
    }

    [Fact]
    public void PaletteColoursAreWellSeparatedFromEachOtherAndBothBackgrounds()
    {
        var colours = Enum.GetValues<SceneColour>().Select(ScenePalette.Of).ToList();
        var backgrounds = Enum.GetValues<SceneBackground>().Select(ScenePalette.Of).ToList();
        var closestPair = colours.SelectMany((a, i) => colours.Skip(i + 1).Select(b => a.DistanceTo(b))).Min();
        var closestToBackground = colours.SelectMany(c => backgrounds.Select(c.DistanceTo)).Min();
        Assert.True(closestPair >= 80, $"Two colours are only {closestPair:F0} apart.");
        Assert.True(closestToBackground >= 110, $"A colour is only {closestToBackground:F0} from a background.");
    }

    static Rgb PixelAt(Glance.Engine.Serving.DecodedImage image, int x, int y)
    {
        var at = 3 * ((y * image.Width) + x);
        return new Rgb(image.Rgb[at], image.Rgb[at + 1], image.Rgb[at + 2]);
    }
}
