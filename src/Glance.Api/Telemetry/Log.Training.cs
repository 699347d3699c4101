namespace Glance.Api.Telemetry;

/// <summary>Adapter training's log events (ids 180-189).</summary>
internal static partial class Log
{
    [LoggerMessage(180, LogLevel.Information, "Training job {JobId} started: set {Set}, phases {Phases}, {Steps} steps per phase, rank {Rank}, alpha {Alpha}, rate {LearningRate}, targets {Targets}, {Width}x{Height}")]
    public static partial void TrainingStarted(ILogger logger, string jobId, string set, string phases, int steps, int rank, double alpha, double learningRate, string targets, int width, int height);

    [LoggerMessage(181, LogLevel.Information, "Training job {JobId} ended {Outcome} after {Steps} steps in {Seconds:F1} s (last loss {Loss:F5})")]
    public static partial void TrainingEnded(ILogger logger, string jobId, string outcome, int steps, double seconds, double loss);

    [LoggerMessage(182, LogLevel.Error, "Training job {JobId} failed")]
    public static partial void TrainingFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(183, LogLevel.Information, "Training job {JobId}: set {Set} stored and attached")]
    public static partial void TrainedSetInstalled(ILogger logger, string jobId, string set);
}
