using Glance.Engine.Serving;
using Glance.Mini.World;
using Xunit.Abstractions;

namespace Glance.Mini.Tests.World;

public class SceneDetectorTests(ITestOutputHelper output)
{
    [Fact]
    public void ReadsCleanRendersOfBothSplits()
    {
        var score = ScoreRenders(seed: 11, image => image);
        Assert.True(score.AllCorrect >= 0.98, score.ToString());
    }

    [Fact]
    public void ToleratesGaussianNoise()
    {
        var noiseSeed = 1000UL;
        var score = ScoreRenders(seed: 12, image => ImageDegradation.AddGaussianNoise(image, 0.05, noiseSeed++));
        Assert.True(score.AllCorrect >= 0.97, score.ToString());
    }

    [Fact]
    public void ToleratesBoxBlur()
    {
        var score = ScoreRenders(seed: 13, ImageDegradation.BoxBlur3);
        Assert.True(score.AllCorrect >= 0.97, score.ToString());
    }

    [Fact]
    public void ToleratesBlurAndNoiseTogether()
    {
        var noiseSeed = 2000UL;
        var score = ScoreRenders(seed: 14, image => ImageDegradation.AddGaussianNoise(ImageDegradation.BoxBlur3(image), 0.05, noiseSeed++));
        Assert.True(score.AllCorrect >= 0.95, score.ToString());
    }

    [Fact]
    public void PlainBackgroundHasNoObject()
    {
        var gray = ScenePalette.Of(SceneBackground.Gray);
        var rgb = Enumerable.Range(0, 64 * 64).SelectMany(_ => new[] { gray.R, gray.G, gray.B }).ToArray();
        var blank = new DecodedImage(64, 64, rgb);
        foreach (var image in new[] { blank, ImageDegradation.AddGaussianNoise(blank, 0.05, 3) })
        {
            var detected = SceneDetector.Detect(image);
            Assert.True(detected.Notes.HasFlag(DetectionNotes.NoObject), detected.ToString());
            Assert.Null(detected.Shape);
            Assert.Equal(SceneBackground.Gray, detected.Background);
        }
    }

    [Fact]
    public void SecondObjectIsNoted()
    {
        var left = SceneRenderer.Render(new SceneSpec(SceneShape.Square, SceneColour.Red, ScenePosition.Left, SceneSize.Large, SceneBackground.Black));
        var right = SceneRenderer.Render(new SceneSpec(SceneShape.Square, SceneColour.Red, ScenePosition.Right, SceneSize.Large, SceneBackground.Black));
        var both = new DecodedImage(64, 64, [.. left.Rgb.Zip(right.Rgb, Math.Max)]);
        Assert.True(SceneDetector.Detect(both).Notes.HasFlag(DetectionNotes.SeveralObjects));
        Assert.False(SceneDetector.Detect(left).Notes.HasFlag(DetectionNotes.SeveralObjects));
    }

    SceneScore ScoreRenders(ulong seed, Func<DecodedImage, DecodedImage> degrade)
    {
        var scenes = new SceneSampler(seed, SceneSplit.Train).Take(150)
            .Concat(new SceneSampler(seed, SceneSplit.HeldOut).Take(150));
        var score = SceneEvaluator.Score(scenes.Select(s => (s, degrade(SceneRenderer.Render(s)))));
        output.WriteLine(score.ToString());
        return score;
    }
}
