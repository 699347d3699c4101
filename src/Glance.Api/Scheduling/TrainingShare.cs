namespace Glance.Api.Scheduling;

/// <summary>
/// How the engine's time is shared between generation and training: while generation requests wait, training takes at
/// most <c>maxShare</c> of the engine time spent since they started waiting; with none waiting, all of it. Time, not
/// steps: a training step (forward and backward) can cost several generation steps, and the share is what bounds the
/// latency that training adds to requests.
/// </summary>
internal static class TrainingShare
{
    /// <param name="generationWaiting">Whether generation requests are running or queued.</param>
    /// <param name="trainingTime">Engine time training took since generation started waiting.</param>
    /// <param name="generationTime">Engine time generation steps took since then.</param>
    /// <param name="nextTrainingStep">What the next training step is expected to take (the last one's time).</param>
    public static bool ShouldTrain(bool generationWaiting, TimeSpan trainingTime, TimeSpan generationTime, TimeSpan nextTrainingStep, double maxShare)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainingTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(generationTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(nextTrainingStep, TimeSpan.Zero);
        if (!generationWaiting) return true;
        if (maxShare <= 0) return false;
        // Would training's share stay within the bound after one more step? (one tick of tolerance for rounding)
        long training = (trainingTime + nextTrainingStep).Ticks;
        return training <= (maxShare * (training + generationTime.Ticks)) + 1;
    }
}
