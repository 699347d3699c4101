using Glance.Engine.Pipeline;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;

namespace Glance.Engine.Tests.Pipeline;

/// <summary>
/// The batch the adapter-set tests mix, on sets "alpha" (both phases) and "beta" (Slow only) beside the default set:
/// three requests start and take six steps (into their Fast phase), three more join (in their Slow phase), and all six
/// run to the end in one batch.
/// </summary>
internal static class MixedSetBatch
{
    public static GenerationSpec Spec(long seed, string? set) => new("a red circle", null, 16, 16, seed, SamplingMode.Glance, AdapterSet: set);

    /// <summary>The six requests, in the order <see cref="Run"/> returns their images.</summary>
    public static GenerationSpec[] Specs { get; } = [Spec(1, null), Spec(2, "alpha"), Spec(3, "beta"), Spec(4, "alpha"), Spec(5, "beta"), Spec(6, null)];

    /// <summary>Runs the batch (checking that its steps mixed both phases) and returns the images in <see cref="Specs"/> order.</summary>
    public static IReadOnlyList<DecodedImage> Run(TorchGlanceEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var first = engine.Start(Specs[..3]);
        for (int i = 0; i < 6; i++) engine.RunStep(first);   // the early ones are in their Fast phase now
        var second = engine.Start(Specs[3..]);
        var all = first.Concat(second).ToArray();
        Assert.Contains(all, s => s.NextStep!.Phase == PlanBuilder.FastPhase);
        Assert.Contains(all, s => s.NextStep!.Phase == PlanBuilder.SlowPhase);
        while (all.Any(s => !s.IsDenoised)) engine.RunStep(all.Where(s => !s.IsDenoised).ToArray());
        var together = engine.Decode(all);
        foreach (var state in all) state.Dispose();
        return together;
    }
}
