using System.Threading.Channels;
using Glance.Api.Scheduling;
using Glance.Engine.Serving;

namespace Glance.Api.Training;

/// <summary>One step's report of a training job, sent from the engine thread.</summary>
internal sealed record TrainingReport(int Step, int TotalSteps, string Phase, double Loss, double EtaSeconds, AdapterTrainingSettings Settings);

/// <summary>How a training job ended: <see cref="Folder"/> holds the trained files when it completed.</summary>
internal sealed record TrainingResult(WorkOutcome Outcome, string? Error, string? Folder = null);

/// <summary>A training job between its endpoint, the engine thread that steps it and the follower that records it.</summary>
internal sealed class TrainingWorkItem(string jobId, AdapterTrainingSpec spec, ChannelWriter<TrainingReport> progress, CancellationToken cancellation)
{
    readonly TaskCompletionSource<TrainingResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string JobId { get; } = jobId;

    public AdapterTrainingSpec Spec { get; } = spec;

    public bool IsCancellationRequested => cancellation.IsCancellationRequested;

    public Task<TrainingResult> Completion => _completion.Task;

    public void Report(TrainingReport report) => progress.TryWrite(report);

    /// <summary>Ends the job once; later calls are ignored.</summary>
    public void Complete(TrainingResult result)
    {
        if (_completion.TrySetResult(result)) progress.TryComplete();
    }
}
