using Glance.Api.Adapters;
using Glance.Api.Options;
using Glance.Api.Scheduling;
using Glance.Api.Telemetry;
using Glance.Engine.Serving;
using Microsoft.Extensions.Options;

namespace Glance.Api.Training;

/// <summary>
/// The engine thread's side of training: one job at a time, one optimizer step per slot the worker grants it under
/// <see cref="TrainingShare"/> (each slot's engine time measured here, each generation step's reported by the worker).
/// A finished job's files are saved into a dot-folder of the registry (which scans ignore);
/// its follower then installs them as the set. Every method runs on the engine thread.
/// </summary>
internal sealed class TrainingSlot(
    TrainingQueue queue,
    AdapterRegistry registry,
    ServerMetrics metrics,
    IOptions<TrainingOptions> options,
    TimeProvider time,
    ILogger<TrainingSlot> logger)
{
    TrainingWorkItem? _item;
    IAdapterTrainingRun? _run;
    long _startedAt;
    double _lastLoss = double.NaN;
    TimeSpan _trainingTime;
    TimeSpan _generationTime;
    TimeSpan? _lastTrainingStep;
    TimeSpan? _lastGenerationStep;

    public bool HasWork => _item is not null || queue.Count > 0;

    /// <summary>Counts a generation step's engine time towards the share.</summary>
    public void GenerationStepped(TimeSpan took)
    {
        _generationTime += took;
        _lastGenerationStep = took;
    }

    /// <summary>Whether training takes this slot; the share is counted afresh each time generation starts waiting.</summary>
    public bool ShouldTrain(bool generationWaiting)
    {
        if (!generationWaiting) (_trainingTime, _generationTime) = (TimeSpan.Zero, TimeSpan.Zero);
        // Before any training step has been timed, assume it costs what a generation step does.
        TimeSpan next = _lastTrainingStep ?? _lastGenerationStep ?? TimeSpan.Zero;
        return HasWork && TrainingShare.ShouldTrain(generationWaiting, _trainingTime, _generationTime, next, options.Value.MaxShare);
    }

    /// <summary>Ends the running job if it was cancelled (it stops at this step boundary).</summary>
    public void DropCancelled()
    {
        if (_item is { IsCancellationRequested: true }) End(new TrainingResult(WorkOutcome.Cancelled, "The training job was cancelled."));
    }

    /// <summary>One training slot: starts the next job (encoding its image and caption) or runs one step of the current one.</summary>
    public void Step(IGlanceEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        long slotStart = time.GetTimestamp();
        try
        {
            if (_run is null) Begin(engine);
            else TrainStep();
        }
        finally
        {
            _trainingTime += time.GetElapsedTime(slotStart);
        }
    }

    void TrainStep()
    {
        TrainingWorkItem item = _item!;
        try
        {
            long start = time.GetTimestamp();
            _lastLoss = _run!.TrainStep();
            TimeSpan took = time.GetElapsedTime(start);
            _lastTrainingStep = took;
            metrics.EngineCall("train", took);
            TimeSpan elapsed = time.GetElapsedTime(_startedAt);
            double eta = elapsed.TotalSeconds / _run.StepsDone * (_run.TotalSteps - _run.StepsDone);
            item.Report(new TrainingReport(_run.StepsDone, _run.TotalSteps, _run.Phase, _lastLoss, eta, _run.Settings));
            if (!_run.IsDone) return;
            string folder = Path.Combine(registry.Root!, $".trained-{item.JobId}");
            _run.Save(folder);
            End(new TrainingResult(WorkOutcome.Completed, null, folder));
        }
#pragma warning disable CA1031 // A failed step fails its own job; the worker and its requests go on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TrainingFailed(logger, item.JobId, ex);
            End(new TrainingResult(WorkOutcome.Failed, $"Training failed: {ex.Message}"));
        }
    }

    void Begin(IGlanceEngine engine)
    {
        TrainingWorkItem? item;
        while ((item = queue.TakeNext()) is { IsCancellationRequested: true })
        {
            item.Complete(new TrainingResult(WorkOutcome.Cancelled, "The training job was cancelled."));
        }
        if (item is null) return;
        _item = item;
        _startedAt = time.GetTimestamp();
        _lastLoss = double.NaN;
        try
        {
            _run = engine.StartTraining(item.Spec);
            var s = _run.Settings;
            Log.TrainingStarted(logger, item.JobId, item.Spec.SetName, string.Join("+", item.Spec.Phases), s.StepsPerPhase, s.Rank, s.Alpha, s.LearningRate, s.Targets, s.Width, s.Height);
            item.Report(new TrainingReport(0, _run.TotalSteps, _run.Phase, double.NaN, double.NaN, s));
        }
#pragma warning disable CA1031 // A job the model cannot train fails alone.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TrainingFailed(logger, item.JobId, ex);
            End(new TrainingResult(WorkOutcome.Failed, ex is ArgumentException ? ex.Message : $"Training could not start: {ex.Message}"));
        }
    }

    /// <summary>Ends the running job and every waiting one (shutdown, or the engine is gone); refuses new ones.</summary>
    public void Abandon(WorkOutcome outcome, string reason)
    {
        if (_item is not null) End(new TrainingResult(outcome, reason));
        foreach (TrainingWorkItem waiting in queue.TakeAll(close: true)) waiting.Complete(new TrainingResult(outcome, reason));
    }

    void End(TrainingResult result)
    {
        TrainingWorkItem item = _item!;
        int steps = _run?.StepsDone ?? 0;
        _run?.Dispose();
        _run = null;
        _item = null;
        Log.TrainingEnded(logger, item.JobId, result.Outcome.ToString(), steps, time.GetElapsedTime(_startedAt).TotalSeconds, _lastLoss);
        item.Complete(result);
    }
}
