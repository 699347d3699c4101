using System.Collections.Concurrent;
using Glance.Engine.Serving;

namespace Glance.Api.Scheduling;

/// <summary>
/// Work that must run on the engine's thread between steps (checking an uploaded adapter file against the model),
/// posted from request threads. The engine worker runs what is pending at each step boundary.
/// </summary>
internal sealed class EngineCommands(RequestQueue queue)
{
    readonly ConcurrentQueue<Action<IGlanceEngine>> _pending = new();

    /// <summary>Runs <paramref name="action"/> on the engine thread at the next step boundary.</summary>
    public Task<T> RunAsync<T>(Func<IGlanceEngine, T> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending.Enqueue(engine =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
                return;
            }
            try
            {
                done.TrySetResult(action(engine));
            }
#pragma warning disable CA1031 // The caller receives the failure.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                done.TrySetException(ex);
            }
        });
        queue.Wake();
        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Runs every pending command (engine thread only).</summary>
    public void RunPending(IGlanceEngine engine)
    {
        while (_pending.TryDequeue(out var command)) command(engine);
    }

    /// <summary>Fails every pending command (the engine is gone).</summary>
    public void FailPending(string reason)
    {
        while (_pending.TryDequeue(out var command)) command(new UnavailableEngine(reason));
    }

    sealed class UnavailableEngine(string reason) : IGlanceEngine
    {
        public EngineDescription Description => throw new InvalidOperationException(reason);
        public void WarmUp() => throw new InvalidOperationException(reason);
        public IReadOnlyList<GenerationState> Start(IReadOnlyList<GenerationSpec> specs) => throw new InvalidOperationException(reason);
        public void RunStep(IReadOnlyList<GenerationState> batch) => throw new InvalidOperationException(reason);
        public IReadOnlyList<DecodedImage> Decode(IReadOnlyList<GenerationState> denoised) => throw new InvalidOperationException(reason);
        public void AttachAdapterSet(AdapterSetFiles files) => throw new InvalidOperationException(reason);
        public void Dispose()
        {
        }
    }
}
