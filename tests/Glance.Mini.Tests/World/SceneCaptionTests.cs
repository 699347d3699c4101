using Glance.Mini.World;

namespace Glance.Mini.Tests.World;

public class SceneCaptionTests
{
    [Fact]
    public void CaptionFollowsTheFixedTemplate()
    {
        Assert.Equal("a large red circle at the top left on a gray background",
            new SceneSpec(SceneShape.Circle, SceneColour.Red, ScenePosition.TopLeft, SceneSize.Large, SceneBackground.Gray).Caption);
        Assert.Equal("a small white cross at the center on a black background",
            new SceneSpec(SceneShape.Cross, SceneColour.White, ScenePosition.Center, SceneSize.Small, SceneBackground.Black).Caption);
        Assert.Equal("a small cyan triangle at the bottom right on a black background",
            new SceneSpec(SceneShape.Triangle, SceneColour.Cyan, ScenePosition.BottomRight, SceneSize.Small, SceneBackground.Black, 0.01, -0.02, 1.05).Caption);
    }

    [Fact]
    public void VocabularyHoldsExactlyTheWordsCaptionsUse()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scene in AllScenes())
            used.UnionWith(scene.Caption.Split(' '));

        Assert.Equal(SceneCaption.Vocabulary.Count, SceneCaption.Vocabulary.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(used.Order(StringComparer.Ordinal), SceneCaption.Vocabulary.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void DistinctScenesGetDistinctCaptions()
    {
        var captions = AllScenes().Select(s => s.Caption).ToList();
        Assert.Equal(captions.Count, captions.Distinct(StringComparer.Ordinal).Count());
    }

    static IEnumerable<SceneSpec> AllScenes() =>
        from shape in Enum.GetValues<SceneShape>()
        from colour in Enum.GetValues<SceneColour>()
        from position in Enum.GetValues<ScenePosition>()
        from size in Enum.GetValues<SceneSize>()
        from background in Enum.GetValues<SceneBackground>()
        select new SceneSpec(shape, colour, position, size, background);
}
