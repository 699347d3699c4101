namespace Glance.Api.Scheduling;

/// <summary>
/// How the engine's step slots are shared between generation and training: while generation requests wait, training
/// takes at most <c>maxShare</c> of the slots counted since they started waiting; with none waiting, every slot.
/// </summary>
internal static class TrainingShare
{
    /// <param name="generationWaiting">Whether generation requests are running or queued.</param>
    /// <param name="trainingSlots">Training steps run since generation started waiting.</param>
    /// <param name="generationSlots">Generation steps run since then.</param>
    public static bool ShouldTrain(bool generationWaiting, int trainingSlots, int generationSlots, double maxShare)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trainingSlots);
        ArgumentOutOfRangeException.ThrowIfNegative(generationSlots);
        if (!generationWaiting) return true;
        // Would one more training slot keep training's share within the bound? (a tolerance for 0.1 + 0.2 kinds of sums)
        return trainingSlots + 1 <= maxShare * (trainingSlots + generationSlots + 1) + 1e-9;
    }
}
