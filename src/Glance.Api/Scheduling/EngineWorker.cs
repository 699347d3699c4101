using System.Collections.Concurrent;
using System.Diagnostics;
using Glance.Api.Adapters;
using Glance.Api.Engine;
using Glance.Api.Options;
using Glance.Api.Telemetry;
using Glance.Engine.Imaging;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using Microsoft.Extensions.Options;

namespace Glance.Api.Scheduling;

/// <summary>
/// Owns the engine on one dedicated thread (tensor scopes are thread-local, so every engine call happens there).
/// At each step boundary it drops cancelled requests, asks <see cref="BatchPolicy"/> for the next batch, starts
/// newly admitted requests in one call, runs one step for the batch, and decodes the finished ones in one call;
/// PNG encoding happens on the thread pool. Adapter training jobs take step slots between them, within a share of the
/// engine's time (<see cref="TrainingShare"/>). An engine call over several requests that runs out of device memory is
/// run again in halves, and batches at that resolution are capped from then on (<see cref="MemoryBatchCaps"/>).
/// </summary>
internal sealed class EngineWorker(
    IEngineFactory engineFactory,
    RequestQueue queue,
    ServerLifecycle lifecycle,
    GenerationScheduler scheduler,
    ServerMetrics metrics,
    IHostApplicationLifetime hostLifetime,
    IOptions<BatchingOptions> batching,
    IOptions<ShutdownOptions> shutdown,
    AdapterRegistry adapters,
    EngineCommands commands,
    Training.TrainingSlot training,
    TimeProvider time,
    ILogger<EngineWorker> logger) : BackgroundService
{
    static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(1);

    readonly List<WorkItem> running = [];
    readonly MemoryBatchCaps memoryCaps = new();
    readonly ConcurrentDictionary<long, Task> encoding = new();
    readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    volatile bool abandon;
    int runningCount;
    long adaptersApplied = -1;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        hostLifetime.ApplicationStopping.Register(BeginDrain);
        adapters.Changed += queue.Wake;
        var thread = new Thread(Run) { IsBackground = true, Name = "glance-engine" };
        thread.Start();
        return exited.Task;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (ExecuteTask is null)
        {
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        BeginDrain();
        using (var graceOver = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            graceOver.CancelAfter(shutdown.Value.Grace);
            try
            {
                await exited.Task.WaitAsync(graceOver.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Flag first, then log: once the warning is out, the worker drops what it holds at its next step boundary.
                abandon = true;
                queue.Wake();
                Log.GraceExpired(logger);
            }
        }
        await exited.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(encoding.Values).WaitAsync(cancellationToken).ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    void BeginDrain()
    {
        if (lifecycle.BeginDrain())
            Log.Draining(logger, Volatile.Read(ref runningCount), queue.Count, shutdown.Value.GraceSeconds);
        queue.Wake();
    }

    void Run()
    {
        try
        {
            IGlanceEngine? engine = Load();
            if (engine is null) return;
            using (engine)
            {
                try
                {
                    Loop(engine);
                }
                finally
                {
                    // On the engine thread, before the engine goes: a training run holds adapters on its model.
                    training.Abandon(WorkOutcome.ShutDown, "The server stopped before the training job finished; submit it again.");
                }
            }
        }
#pragma warning disable CA1031 // The worker thread must never die silently: whatever happens, fail what it holds.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.WorkerCrashed(logger, ex);
            lifecycle.Faulted(ex.Message);
            EndAll([.. running], WorkOutcome.Failed, "The engine worker stopped on an unexpected error.");
            running.Clear();
        }
        finally
        {
            commands.FailPending("The engine is not running.");
            training.Abandon(WorkOutcome.EngineUnavailable, "The engine is not running.");
            EndAll(queue.TakeAll(close: true), WorkOutcome.ShutDown, "The server stopped before the request was started.");
            lifecycle.Stopped();
            exited.TrySetResult();
        }
    }

    IGlanceEngine? Load()
    {
        Log.EngineLoading(logger);
        IGlanceEngine? engine = null;
        try
        {
            engine = engineFactory.Create();
            EngineDescription description = engine.Description;
            Log.EngineLoaded(logger, description.ModelName, description.Device, description.DType);
            foreach (var (adapter, note) in description.AdapterNotes ?? new Dictionary<string, string>()) Log.AdapterAttached(logger, adapter, note);
            lifecycle.EngineLoaded(description);
            metrics.EngineLoaded(engine.PromptCache, description.Device);
            long warmUpStart = Stopwatch.GetTimestamp();
            engine.WarmUp();
            // The sets are published before the server reports ready, so that no request sees an empty list.
            ReconcileAdapters(engine);
            lifecycle.WarmedUp();
            Log.EngineReady(logger, Stopwatch.GetElapsedTime(warmUpStart).TotalMilliseconds);
            return engine;
        }
#pragma warning disable CA1031 // A failed load must leave the server up and saying why (readyz), not kill the process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.EngineLoadFailed(logger, ex);
            engine?.Dispose();
            lifecycle.Faulted(ex.Message);
            EndAll(queue.TakeAll(close: true), WorkOutcome.EngineUnavailable, "The engine could not be loaded.");
            return null;
        }
    }

    void Loop(IGlanceEngine engine)
    {
        var limits = new BatchLimits(batching.Value.MaxBatchSize, batching.Value.MaxRunning) { MemoryCaps = memoryCaps.Caps };
        while (true)
        {
            queue.ResetWake();
            ReconcileAdapters(engine);
            commands.RunPending(engine);
            DropCancelled();
            training.DropCancelled();
            if (abandon)
            {
                EndAll([.. running], WorkOutcome.ShutDown, "The server stopped before the request finished.");
                running.Clear();
                return;
            }
            // Training runs for minutes: a draining server stops it at once rather than holding the grace period.
            if (lifecycle.IsDraining && training.HasWork)
                training.Abandon(WorkOutcome.ShutDown, "The server is shutting down; the training job was stopped. Submit it again.");
            if (running.Count == 0 && queue.Count == 0 && !training.HasWork)
            {
                if (lifecycle.IsDraining) return;
                queue.WaitForWake(IdleWait);
                continue;
            }
            bool stepped = false;
            if (running.Count > 0 || queue.Count > 0)
            {
                BatchDecision decision = BatchPolicy.Plan(
                    [.. running.Select(ToCandidate)], [.. queue.Snapshot().Select(ToCandidate)], limits);
                if (!decision.IsIdle)
                {
                    Start(engine, queue.Take(decision.Admit));
                    List<WorkItem> batch = running.FindAll(item => decision.Step.Contains(item.Id));
                    if (batch.Count > 0)
                    {
                        long stepStart = time.GetTimestamp();
                        Step(engine, batch);
                        training.GenerationStepped(time.GetElapsedTime(stepStart));
                        stepped = true;
                    }
                }
                metrics.Running(running.Count);
                Volatile.Write(ref runningCount, running.Count);
            }
            // A slot no generation step used goes to training whatever the share.
            bool trainNow = training.ShouldTrain(generationWaiting: running.Count > 0 || queue.Count > 0);
            if (training.HasWork && (trainNow || !stepped))
            {
                training.Step(engine);
                continue;
            }
            if (!stepped) queue.WaitForWake(IdleWait);
        }
    }

    /// <summary>
    /// Brings the engine's adapter sets in line with the registry folder between steps: sets gone from the folder are
    /// detached, new or changed ones attached (all or nothing per set; a bad file is reported, not fatal), at most one
    /// per step boundary while requests run. A set that running requests use is left as it is until they finish.
    /// </summary>
    void ReconcileAdapters(IGlanceEngine engine)
    {
        long version = adapters.Version;
        if (version == adaptersApplied) return;
        var inUse = running.Select(item => item.Spec.AdapterSetName).ToHashSet(StringComparer.Ordinal);
        var (within, beyond) = adapters.WithinLimits();
        var desired = within.ToDictionary(set => set.Name, StringComparer.Ordinal);
        var attached = engine.AdapterSets.Where(set => set.Name != AdapterSets.Default).ToDictionary(set => set.Name, StringComparer.Ordinal);
        var failures = new Dictionary<string, string>(beyond, StringComparer.Ordinal);
        bool deferred = false;
        foreach (string name in attached.Keys.Where(name => !desired.ContainsKey(name)))
        {
            if (inUse.Contains(name)) deferred = true;
            else if (engine.DetachAdapterSet(name)) Log.AdapterSetDetached(logger, name);
        }
        int attachedNow = 0;
        foreach (var set in desired.Values.Where(set => !attached.TryGetValue(set.Name, out var info) || info.Fingerprint != set.Fingerprint))
        {
            // Reading a set's files holds the step loop: with requests running, one set per step boundary, so a burst
            // of new sets delays their steps by one set's load at a time, not by all of them at once.
            if (inUse.Contains(set.Name) || (running.Count > 0 && attachedNow > 0))
            {
                deferred = true;
                continue;
            }
            attachedNow++;
            try
            {
                engine.AttachAdapterSet(set);
                Log.AdapterSetAttached(logger, set.Name, set.Fingerprint);
            }
#pragma warning disable CA1031 // A bad file in the folder is reported on its set, never fatal to the worker.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures[set.Name] = ex.Message;
                Log.AdapterSetRejected(logger, set.Name, ex.Message);
            }
        }
        adapters.Publish(engine.AdapterSets, failures);
        if (!deferred) adaptersApplied = version;
    }

    static BatchCandidate ToCandidate(WorkItem item) =>
        new(item.Id, item.Spec.Width, item.Spec.Height, item.LastProgressAt);

    void DropCancelled()
    {
        List<WorkItem> cancelled = running.FindAll(item => item.IsCancellationRequested);
        running.RemoveAll(item => item.IsCancellationRequested);
        foreach (WorkItem item in cancelled.Concat(queue.TakeCancelled()).ToList())
            End(item, item.CancellationOutcome, CancellationMessage(item.CancellationOutcome));
    }

    static string CancellationMessage(WorkOutcome outcome) => outcome == WorkOutcome.TimedOut
        ? "The request did not finish within its time limit."
        : "The request was cancelled.";

    void Start(IGlanceEngine engine, IReadOnlyList<WorkItem> admitted)
    {
        if (admitted.Count == 0) return;
        long start = Stopwatch.GetTimestamp();
        IReadOnlyList<GenerationState> states;
        try
        {
            states = engine.Start([.. admitted.Select(item => item.Spec)]);
            if (states.Count != admitted.Count)
                throw new InvalidOperationException($"The engine started {states.Count} states for {admitted.Count} requests.");
        }
#pragma warning disable CA1031 // An engine failure fails the requests it touched; the worker goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (RanAgainInHalves("start", admitted, ex, half => Start(engine, half))) return;
            Failed("start", admitted, ex);
            return;
        }
        long end = Stopwatch.GetTimestamp();
        metrics.EngineCall("start", Stopwatch.GetElapsedTime(start, end));
        for (int i = 0; i < admitted.Count; i++)
        {
            WorkItem item = admitted[i];
            item.State = states[i];
            item.Truncations = states[i].Truncations;
            if (states[i].Truncations.Count > 0)
                Log.PromptTruncated(logger, item.RequestId, string.Join(", ", states[i].Truncations));
            item.Timings.Started(start, end, states[i].Plan.Select(step => step.Phase));
            item.LastProgressAt = end;
            running.Add(item);
            Volatile.Write(ref runningCount, running.Count);
            item.Report(new WorkProgress(WorkProgressKind.Started, 0, states[i].Plan.Count, null, item.Timings.ToMilliseconds()));
        }
    }

    void Step(IGlanceEngine engine, List<WorkItem> batch)
    {
        string[] phases = [.. batch.Select(item => item.State!.NextStep!.Phase)];
        long start = Stopwatch.GetTimestamp();
        try
        {
            engine.RunStep([.. batch.Select(item => item.State!)]);
        }
#pragma warning disable CA1031 // An engine failure fails the requests it touched; the worker goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // RunStep is all or nothing: after a failure every state is where it was, so the halves can run the step.
            if (RanAgainInHalves("step", batch, ex, half => Step(engine, half))) return;
            running.RemoveAll(batch.Contains);
            Failed("step", batch, ex);
            return;
        }
        long end = Stopwatch.GetTimestamp();
        metrics.EngineCall("step", Stopwatch.GetElapsedTime(start, end));
        metrics.Batch(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            WorkItem item = batch[i];
            GenerationState state = item.State!;
            item.Timings.Stepped(phases[i], start, end);
            item.LastProgressAt = end;
            item.Report(new WorkProgress(WorkProgressKind.Step, state.StepIndex, state.Plan.Count, phases[i], item.Timings.ToMilliseconds()));
        }
        List<WorkItem> finished = batch.FindAll(item => item.State!.IsDenoised);
        if (finished.Count > 0) Decode(engine, finished);
    }

    void Decode(IGlanceEngine engine, List<WorkItem> finished)
    {
        running.RemoveAll(finished.Contains);
        long start = Stopwatch.GetTimestamp();
        IReadOnlyList<DecodedImage> images;
        try
        {
            images = engine.Decode([.. finished.Select(item => item.State!)]);
            if (images.Count != finished.Count)
                throw new InvalidOperationException($"The engine decoded {images.Count} images for {finished.Count} requests.");
        }
#pragma warning disable CA1031 // An engine failure fails the requests it touched; the worker goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (RanAgainInHalves("decode", finished, ex, half => Decode(engine, half))) return;
            Failed("decode", finished, ex);
            return;
        }
        long end = Stopwatch.GetTimestamp();
        metrics.EngineCall("decode", Stopwatch.GetElapsedTime(start, end));
        for (int i = 0; i < finished.Count; i++)
        {
            WorkItem item = finished[i];
            item.Timings.Decoded(start, end);
            item.State!.Dispose();
            item.State = null;
            DecodedImage image = images[i];
            encoding[item.Id] = Task.Run(() => EncodePng(item, image));
        }
    }

    void EncodePng(WorkItem item, DecodedImage image)
    {
        try
        {
            long start = Stopwatch.GetTimestamp();
            byte[] png = PngEncoding.Encode(image);
            item.Timings.Encoded(start, Stopwatch.GetTimestamp());
            End(item, WorkResult.Completed(png));
        }
#pragma warning disable CA1031 // A bad image fails its own request only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.PngFailed(logger, item.RequestId, ex);
            End(item, WorkOutcome.Failed, "The decoded image could not be encoded as PNG.");
        }
        finally
        {
            encoding.TryRemove(item.Id, out _);
        }
    }

    /// <summary>
    /// After an engine call over several requests ran out of memory: caps batches at their resolution, counts and logs
    /// it, and runs the call again (<paramref name="again"/>) over each half in turn. False for any other failure, and
    /// for a single request (nothing smaller to try): then nothing was run.
    /// </summary>
    bool RanAgainInHalves(string operation, IReadOnlyList<WorkItem> items, Exception ex, Action<List<WorkItem>> again)
    {
        if (items.Count < 2 || !OutOfMemoryErrors.Is(ex)) return false;
        var (width, height) = (items[0].Spec.Width, items[0].Spec.Height);
        int cap = memoryCaps.RanOutAt(width, height, items.Count);
        metrics.OutOfMemory(operation);
        // libtorch's message ends in a native backtrace; its first line says what ran out and by how much.
        Log.EngineOutOfMemory(logger, operation, items.Count, width, height, cap, ex.Message.Split('\n', 2)[0]);
        int half = items.Count / 2;
        again([.. items.Take(half)]);
        again([.. items.Skip(half)]);
        return true;
    }

    void Failed(string operation, IReadOnlyList<WorkItem> items, Exception ex)
    {
        Log.EngineCallFailed(logger, operation, items.Count, string.Join(", ", items.Select(item => item.RequestId)), ex);
        EndAll(items, WorkOutcome.Failed, OutOfMemoryErrors.Is(ex)
            ? $"The device ran out of memory for this request alone during {operation}; the request was abandoned. A smaller image may fit."
            : $"The engine failed during {operation}; the request was abandoned.");
    }

    void EndAll(IReadOnlyList<WorkItem> items, WorkOutcome outcome, string error)
    {
        foreach (WorkItem item in items) End(item, outcome, error);
    }

    void End(WorkItem item, WorkOutcome outcome, string error) => End(item, WorkResult.Ended(outcome, error));

    void End(WorkItem item, WorkResult result)
    {
        if (!item.TryClaimEnd()) return;
        // Counted before the answer is published: a client that reads /metrics right after its response must find
        // its own request there.
        IReadOnlyDictionary<string, double> timings = item.Timings.ToMilliseconds();
        TimeSpan total = Stopwatch.GetElapsedTime(item.Timings.EnqueuedAt);
        metrics.Finished(result.Outcome, timings, item.Spec.AdapterSetName, total);
        if (result.Outcome == WorkOutcome.Completed) scheduler.RecordLatency(total);
        Log.RequestEnded(logger, item.RequestId, result.Outcome, total.TotalMilliseconds);
        item.Complete(result);
    }
}
