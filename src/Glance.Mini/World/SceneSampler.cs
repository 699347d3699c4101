namespace Glance.Mini.World;

public enum SceneSplit { Train, HeldOut }

/// <summary>
/// Deterministic scenes: scene <c>index</c> of a split depends on (seed, split, index) alone, so any scene can be
/// regenerated without replaying the ones before it. The training split draws its (shape, colour, position)
/// uniformly from the non-held-out triples, the held-out split uniformly from <see cref="HeldOutTriples.All"/>;
/// size, background and jitter are drawn the same way in both.
/// </summary>
public sealed class SceneSampler(ulong seed, SceneSplit split)
{
    public ulong Seed { get; } = seed;

    public SceneSplit Split { get; } = split;

    public SceneSpec Sample(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var random = SceneRandom.For(Seed, Split, index);
        var triples = Split == SceneSplit.HeldOut ? HeldOutTriples.All : HeldOutTriples.Training;
        var triple = triples[random.NextInt(triples.Count)];
        var size = (SceneSize)random.NextInt(2);
        var background = (SceneBackground)random.NextInt(2);
        var offsetX = random.NextDouble(-SceneLayout.MaxOffset, SceneLayout.MaxOffset);
        var offsetY = random.NextDouble(-SceneLayout.MaxOffset, SceneLayout.MaxOffset);
        var scale = random.NextDouble(SceneLayout.MinScale, SceneLayout.MaxScale);
        return new SceneSpec(triple.Shape, triple.Colour, triple.Position, size, background, offsetX, offsetY, scale);
    }

    public IEnumerable<SceneSpec> Take(int count, long start = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        for (long i = start; i < start + count; i++)
            yield return Sample(i);
    }
}
