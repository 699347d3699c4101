using System.Diagnostics;

namespace Glance.Api.Scheduling;

/// <summary>
/// Where one request's time went. Each engine call is timed once and every request in its batch is charged
/// that whole duration, grouped by the phase of the step the request ran. Written by the engine thread
/// (and the PNG encoder after it); read by others only after the request completed.
/// </summary>
internal sealed class RequestTimings(long enqueuedAt)
{
    public const string Queue = "queue";
    public const string Encode = "encode";
    public const string Decode = "decode";
    public const string Png = "png";
    public const string Total = "total";

    readonly List<PhaseTiming> phases = [];

    public long EnqueuedAt { get; } = enqueuedAt;
    public TimeSpan QueueTime { get; private set; }
    public Interval? EncodeInterval { get; private set; }
    public Interval? DecodeInterval { get; private set; }
    public Interval? PngInterval { get; private set; }
    public TimeSpan TotalTime { get; private set; }
    public IReadOnlyList<PhaseTiming> Phases => phases;

    /// <summary>Records the engine's Start call and lists the plan's phases, so each is reported even before it runs.</summary>
    public void Started(long startAt, long endAt, IEnumerable<string> planPhases)
    {
        QueueTime = Stopwatch.GetElapsedTime(EnqueuedAt, startAt);
        EncodeInterval = new Interval(startAt, endAt);
        foreach (string phase in planPhases.Distinct(StringComparer.Ordinal))
            phases.Add(new PhaseTiming(phase));
    }

    public void Stepped(string phase, long startAt, long endAt)
    {
        PhaseTiming? timing = phases.Find(p => p.Phase == phase);
        if (timing is null)
        {
            timing = new PhaseTiming(phase);
            phases.Add(timing);
        }
        timing.Add(startAt, endAt);
    }

    public void Decoded(long startAt, long endAt) => DecodeInterval = new Interval(startAt, endAt);

    public void Encoded(long startAt, long endAt)
    {
        PngInterval = new Interval(startAt, endAt);
        TotalTime = Stopwatch.GetElapsedTime(EnqueuedAt, endAt);
    }

    /// <summary>Milliseconds per stage in pipeline order: queue, encode, each phase, decode, png, total.</summary>
    public IReadOnlyDictionary<string, double> ToMilliseconds()
    {
        var result = new OrderedDictionary<string, double>(StringComparer.Ordinal)
        {
            [Queue] = Round(QueueTime),
            [Encode] = Round(EncodeInterval?.Duration ?? TimeSpan.Zero),
        };
        foreach (PhaseTiming phase in phases)
            result[phase.Phase] = Round(phase.Busy);
        result[Decode] = Round(DecodeInterval?.Duration ?? TimeSpan.Zero);
        result[Png] = Round(PngInterval?.Duration ?? TimeSpan.Zero);
        result[Total] = Round(TotalTime);
        return result;
    }

    static double Round(TimeSpan span) => Math.Round(span.TotalMilliseconds, 3);
}

/// <summary>A stretch of time between two <see cref="Stopwatch"/> timestamps.</summary>
internal readonly record struct Interval(long StartAt, long EndAt)
{
    public TimeSpan Duration => Stopwatch.GetElapsedTime(StartAt, EndAt);
}

/// <summary>The engine steps one request ran in one phase: their summed wall time and first and last instants.</summary>
internal sealed class PhaseTiming(string phase)
{
    public string Phase { get; } = phase;
    public TimeSpan Busy { get; private set; }
    public int Steps { get; private set; }
    public long FirstStartAt { get; private set; }
    public long LastEndAt { get; private set; }

    public void Add(long startAt, long endAt)
    {
        if (Steps == 0) FirstStartAt = startAt;
        LastEndAt = endAt;
        Busy += Stopwatch.GetElapsedTime(startAt, endAt);
        Steps++;
    }
}
