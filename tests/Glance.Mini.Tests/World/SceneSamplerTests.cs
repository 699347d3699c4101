using Glance.Mini.World;

namespace Glance.Mini.Tests.World;

public class SceneSamplerTests
{
    [Fact]
    public void SameSeedGivesIdenticalScenesAndBytes()
    {
        var first = new SceneSampler(42, SceneSplit.Train);
        var second = new SceneSampler(42, SceneSplit.Train);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(first.Sample(i), second.Sample(i));
            Assert.Equal(SceneRenderer.Render(first.Sample(i)).Rgb, SceneRenderer.Render(second.Sample(i)).Rgb);
        }
    }

    [Fact]
    public void SceneDependsOnlyOnSeedSplitAndIndex()
    {
        var sequence = new SceneSampler(7, SceneSplit.Train).Take(200).ToList();
        Assert.Equal(sequence[123], new SceneSampler(7, SceneSplit.Train).Sample(123));
        Assert.Equal(sequence.Skip(50).Take(10), new SceneSampler(7, SceneSplit.Train).Take(10, start: 50));

        var otherSeed = new SceneSampler(8, SceneSplit.Train).Take(200).ToList();
        Assert.True(sequence.Zip(otherSeed).Count(p => p.First == p.Second) < 5);
    }

    [Fact]
    public void TrainingSplitNeverYieldsAHeldOutTriple()
    {
        var seen = new HashSet<SceneTriple>();
        foreach (var scene in new SceneSampler(1, SceneSplit.Train).Take(5000))
        {
            Assert.False(HeldOutTriples.IsHeldOut(scene.Triple), $"Training yielded held-out {scene.Triple}.");
            seen.Add(scene.Triple);
        }
        Assert.Equal(HeldOutTriples.Training.Count, seen.Count);
    }

    [Fact]
    public void HeldOutSplitYieldsOnlyAndAllHeldOutTriples()
    {
        var seen = new HashSet<SceneTriple>();
        foreach (var scene in new SceneSampler(1, SceneSplit.HeldOut).Take(2000))
        {
            Assert.True(HeldOutTriples.IsHeldOut(scene.Triple), $"Held-out split yielded training triple {scene.Triple}.");
            seen.Add(scene.Triple);
        }
        Assert.Equal(HeldOutTriples.All.Count, seen.Count);
    }

    [Fact]
    public void HeldOutSetIsAboutFifteenPercentAndEveryPairStaysInTraining()
    {
        Assert.Equal(42, HeldOutTriples.All.Count);
        Assert.Equal(288, HeldOutTriples.All.Count + HeldOutTriples.Training.Count);
        Assert.Empty(HeldOutTriples.All.Intersect(HeldOutTriples.Training));
        foreach (var held in HeldOutTriples.All)
        {
            Assert.Contains(HeldOutTriples.Training, t => t.Shape == held.Shape && t.Colour == held.Colour);
            Assert.Contains(HeldOutTriples.Training, t => t.Shape == held.Shape && t.Position == held.Position);
            Assert.Contains(HeldOutTriples.Training, t => t.Colour == held.Colour && t.Position == held.Position);
        }
    }

    [Fact]
    public void JitterStaysWithinLayoutBoundsAndVaries()
    {
        var scenes = new SceneSampler(3, SceneSplit.Train).Take(500).ToList();
        Assert.All(scenes, s =>
        {
            Assert.InRange(s.OffsetX, -SceneLayout.MaxOffset, SceneLayout.MaxOffset);
            Assert.InRange(s.OffsetY, -SceneLayout.MaxOffset, SceneLayout.MaxOffset);
            Assert.InRange(s.Scale, SceneLayout.MinScale, SceneLayout.MaxScale);
        });
        Assert.True(scenes.Select(s => s.OffsetX).Distinct().Count() > 450);
        Assert.Contains(scenes, s => s.Size == SceneSize.Small);
        Assert.Contains(scenes, s => s.Background == SceneBackground.Gray);
    }
}
