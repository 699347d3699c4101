namespace Glance.Mini.World;

/// <summary>
/// Example prompts of the world for clients of a glance-mini model (its folder's examples.txt): captions of
/// training scenes, so the model has seen every combination, one per (shape, colour) pair, large and small in turn
/// starting with a large one (the first example is what a new visitor sees first).
/// </summary>
public static class WorldExamples
{
    public const ulong Seed = 16;

    public static IReadOnlyList<string> Prompts(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var sampler = new SceneSampler(Seed, SceneSplit.Train);
        var pairs = new HashSet<(SceneShape, SceneColour)>();
        var picked = new List<SceneSpec>(count);
        for (long i = 0; picked.Count < count; i++)
        {
            var scene = sampler.Sample(i);
            var wanted = picked.Count % 2 == 0 ? SceneSize.Large : SceneSize.Small;
            if (scene.Size == wanted && !pairs.Contains((scene.Shape, scene.Colour)))
            {
                pairs.Add((scene.Shape, scene.Colour));
                picked.Add(scene);
            }
        }
        return [.. picked.Select(s => s.Caption)];
    }
}
