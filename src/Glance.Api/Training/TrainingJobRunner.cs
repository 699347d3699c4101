using System.Diagnostics;
using System.Threading.Channels;
using Glance.Api.Adapters;
using Glance.Api.Jobs;
using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Api.Telemetry;
using Glance.Contracts.Jobs;
using Glance.Engine.Serving;

namespace Glance.Api.Training;

/// <summary>
/// Training jobs on the /jobs machinery: queues them for the engine thread, records each step (loss, eta) as job
/// state and events, and once the engine has saved the files installs them as the set (the checks and limits of an
/// upload), so the job completes when every replica can serve the set. DELETE /jobs/{id} cancels at the next step.
/// </summary>
internal sealed class TrainingJobRunner(
    TrainingQueue queue,
    IJobStore store,
    JobRunner jobs,
    IJobCancellation remote,
    AdapterUploads uploads,
    TimeProvider time,
    ILogger<TrainingJobRunner> logger)
{
    public async Task<(TrainingQueue.Admission Admission, JobResponse? Job)> SubmitAsync(
        AdapterTrainingSpec spec, AdapterTrainingSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(settings);
        string id = Guid.NewGuid().ToString("N");
        var cancellation = new CancellationTokenSource();
        var progress = Channel.CreateUnbounded<TrainingReport>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var item = new TrainingWorkItem(id, spec, progress.Writer, cancellation.Token);
        var admission = queue.TryEnqueue(item);
        if (admission != TrainingQueue.Admission.Accepted)
        {
            cancellation.Dispose();
            return (admission, null);
        }
        DateTimeOffset now = time.GetUtcNow();
        var job = new JobResponse(id, JobStatus.Queued, spec.Seed, 0, settings.StepsPerPhase * spec.Phases.Count, null, new Dictionary<string, double>(), now, null, null,
            Kind: JobKinds.Training, Training: Info(spec, settings));
        try
        {
            await store.AddAsync(job, new JobEvent(JobEventNames.Queued, id, 0, job.TotalSteps, null, now), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await cancellation.CancelAsync().ConfigureAwait(false);
            queue.Release(spec.SetName);
            throw;
        }
        jobs.Track(id, cancellation);
        _ = Task.Run(() => FollowAsync(item, progress.Reader, cancellation), CancellationToken.None);
        return (admission, job);
    }

    static JobTrainingInfo Info(AdapterTrainingSpec spec, AdapterTrainingSettings s, double? loss = null, double? eta = null) =>
        new(spec.SetName, spec.Phases, s.StepsPerPhase, s.Rank, s.Alpha, s.LearningRate, s.Targets, s.Width, s.Height, loss, eta);

    async Task FollowAsync(TrainingWorkItem item, ChannelReader<TrainingReport> progress, CancellationTokenSource cancellation)
    {
        string id = item.JobId;
        long started = Stopwatch.GetTimestamp();
        try
        {
            string? phase = null;
            await foreach (TrainingReport report in progress.ReadAllAsync().ConfigureAwait(false))
            {
                if (!cancellation.IsCancellationRequested && await remote.IsRequestedAsync(id, CancellationToken.None).ConfigureAwait(false))
                    await cancellation.CancelAsync().ConfigureAwait(false);
                DateTimeOffset at = time.GetUtcNow();
                double? loss = double.IsFinite(report.Loss) ? report.Loss : null;
                double? eta = double.IsFinite(report.EtaSeconds) ? report.EtaSeconds : null;
                var info = Info(item.Spec, report.Settings, loss, eta);
                if (report.Step == 0)
                {
                    started = Stopwatch.GetTimestamp();
                    await Update(id, job => job with { Status = JobStatus.Running, TotalSteps = report.TotalSteps, Training = info }, null).ConfigureAwait(false);
                }
                if (report.Phase != phase)
                {
                    phase = report.Phase;
                    await Update(id, job => job, new JobEvent(JobEventNames.Phase, id, report.Step, report.TotalSteps, phase, at)).ConfigureAwait(false);
                }
                if (report.Step == 0) continue;
                await Update(
                    id,
                    job => job with { Step = report.Step, TotalSteps = report.TotalSteps, Phase = report.Phase, Training = info, Timings = Elapsed(started) },
                    new JobEvent(JobEventNames.Step, id, report.Step, report.TotalSteps, report.Phase, at, null, loss, eta)).ConfigureAwait(false);
            }
            TrainingResult result = await item.Completion.ConfigureAwait(false);
            if (result.Outcome == WorkOutcome.Completed)
            {
                AdapterUploads.Outcome installed;
                try
                {
                    installed = await uploads.InstallAsync(item.Spec.SetName, result.Folder!, CancellationToken.None).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // Whatever stops the install fails the job with the reason; the follower must finish it.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.TrainingFailed(logger, id, ex);
                    installed = new AdapterUploads.Outcome(null, ProblemKind.TrainingFailed, $"The trained files could not be stored as set '{item.Spec.SetName}': {ex.Message}");
                }
                if (installed.Set is not null) Log.TrainedSetInstalled(logger, id, item.Spec.SetName);
                await Finish(id, installed.Kind is null ? JobStatus.Completed : JobStatus.Failed,
                    installed.Kind is null ? JobEventNames.Completed : JobEventNames.Failed, installed.Kind, installed.Problem, started).ConfigureAwait(false);
                return;
            }
            (ProblemKind failure, string status, string eventName) = JobEndings.Of(result.Outcome, ProblemKind.TrainingFailed);
            await Finish(id, status, eventName, failure, result.Error, started).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Runs unobserved: a store failure is logged, never thrown into the void.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.JobUpdateFailed(logger, id, ex);
        }
        finally
        {
            queue.Release(item.Spec.SetName);
            jobs.Untrack(id);
            cancellation.Dispose();
        }
    }

    static Dictionary<string, double> Elapsed(long started) => new(StringComparer.Ordinal) { ["train"] = Stopwatch.GetElapsedTime(started).TotalMilliseconds };

    /// <summary>Ends the job; a training job's time left is gone once it has ended.</summary>
    Task Finish(string id, string status, string eventName, ProblemKind? kind, string? detail, long started) =>
        JobEndings.FinishAsync(store, time, id, status, eventName, kind, detail, Elapsed(started),
            job => job with { Training = job.Training is { } t ? t with { EtaSeconds = null } : null });

    Task<JobResponse?> Update(string id, Func<JobResponse, JobResponse> change, JobEvent? evt) =>
        store.UpdateAsync(id, change, evt, CancellationToken.None);
}
