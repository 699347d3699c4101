using Glance.Mini.World;

namespace Glance.Mini.Tests.World;

public class SceneEvaluatorTests
{
    [Fact]
    public void ScoresCountEachAttributeSeparately()
    {
        var redCircle = new SceneSpec(SceneShape.Circle, SceneColour.Red, ScenePosition.TopLeft, SceneSize.Large, SceneBackground.Black);
        var blueCircle = redCircle with { Colour = SceneColour.Blue };
        var smallRedCircle = redCircle with { Size = SceneSize.Small };
        var score = SceneEvaluator.Score(
        [
            (redCircle, SceneRenderer.Render(redCircle)),
            (redCircle, SceneRenderer.Render(blueCircle)),
            (redCircle, SceneRenderer.Render(smallRedCircle)),
            (redCircle with { Shape = SceneShape.Square }, SceneRenderer.Render(redCircle)),
        ]);
        Assert.Equal(4, score.Count);
        Assert.Equal(0.75, score.Colour);
        Assert.Equal(0.75, score.Shape);
        Assert.Equal(1.0, score.Position);
        Assert.Equal(0.75, score.Size);
        Assert.Equal(0.5, score.Triple);
        Assert.Equal(0.25, score.AllCorrect);
    }

    [Fact]
    public void MissingObjectMatchesNothingButTheBackground()
    {
        var scene = new SceneSpec(SceneShape.Cross, SceneColour.Green, ScenePosition.Bottom, SceneSize.Small, SceneBackground.Gray);
        var nothing = new DetectedScene(null, null, null, null, SceneBackground.Gray, 0, 0, double.NaN, double.NaN, double.NaN, 0, DetectionNotes.NoObject);
        Assert.Equal(new AttributeMatch(false, false, false, false, true), SceneEvaluator.Compare(scene, nothing));
    }
}
