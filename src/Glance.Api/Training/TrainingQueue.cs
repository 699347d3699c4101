using Glance.Api.Options;
using Glance.Api.Scheduling;
using Microsoft.Extensions.Options;

namespace Glance.Api.Training;

/// <summary>
/// Training jobs waiting for the engine, first in first out, bounded by <see cref="TrainingOptions.MaxQueued"/>; at most
/// one job per set name is waiting or running at a time. Wakes the engine worker when a job arrives.
/// </summary>
internal sealed class TrainingQueue(RequestQueue requests, IOptions<TrainingOptions> options)
{
    readonly Lock _gate = new();
    readonly Queue<TrainingWorkItem> _waiting = new();
    readonly HashSet<string> _names = new(StringComparer.Ordinal);
    bool _closed;

    public enum Admission
    {
        Accepted,
        Full,
        SetBusy,
        Closed,
    }

    public Admission TryEnqueue(TrainingWorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        lock (_gate)
        {
            if (_closed) return Admission.Closed;
            if (_names.Contains(item.Spec.SetName)) return Admission.SetBusy;
            if (_waiting.Count >= options.Value.MaxQueued) return Admission.Full;
            _waiting.Enqueue(item);
            _names.Add(item.Spec.SetName);
        }
        requests.Wake();
        return Admission.Accepted;
    }

    public int Count
    {
        get
        {
            lock (_gate) return _waiting.Count;
        }
    }

    /// <summary>The next job, or null (engine thread).</summary>
    public TrainingWorkItem? TakeNext()
    {
        lock (_gate) return _waiting.TryDequeue(out var item) ? item : null;
    }

    /// <summary>Frees a set's name once its job has ended.</summary>
    public void Release(string setName)
    {
        lock (_gate) _names.Remove(setName);
    }

    /// <summary>Takes every waiting job; with <paramref name="close"/>, refuses new ones from now on.</summary>
    public IReadOnlyList<TrainingWorkItem> TakeAll(bool close)
    {
        lock (_gate)
        {
            _closed |= close;
            var all = _waiting.ToArray();
            _waiting.Clear();
            return all;
        }
    }
}
