using System.Diagnostics;
using Glance.Api.Scheduling;

namespace Glance.Api.Telemetry;

/// <summary>
/// Spans on the "Glance.Server" activity source: one per image request, with a child span per stage. Stage
/// spans are written after the fact from the request's timings, so the engine thread never touches activities.
/// </summary>
internal static class RequestTracing
{
    public const string SourceName = "Glance.Server";

    static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartRequest(WorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        Activity? activity = Source.StartActivity("glance.generate");
        activity?.SetTag("glance.mode", item.Spec.Mode.ToString().ToLowerInvariant());
        activity?.SetTag("glance.width", item.Spec.Width);
        activity?.SetTag("glance.height", item.Spec.Height);
        activity?.SetTag("glance.seed", item.Spec.Seed);
        return activity;
    }

    /// <summary>Adds the stage spans under <paramref name="request"/> and records the outcome on it.</summary>
    public static void Finish(Activity? request, WorkItem item, WorkResult result)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(result);
        if (request is null) return;
        request.SetTag("glance.outcome", result.Outcome.ToString());
        if (result.Outcome != WorkOutcome.Completed) request.SetStatus(ActivityStatusCode.Error, result.Error);

        Activity? current = Activity.Current;
        RequestTimings timings = item.Timings;
        long anchor = timings.EnqueuedAt;
        DateTimeOffset anchorUtc = item.CreatedAtUtc;
        if (timings.EncodeInterval is { } encode)
        {
            Stage(request, "glance.queue", anchorUtc, anchor, new Interval(anchor, encode.StartAt), null);
            Stage(request, "glance.encode", anchorUtc, anchor, encode, null);
        }
        foreach (PhaseTiming phase in timings.Phases.Where(p => p.Steps > 0))
            Stage(request, "glance.phase." + phase.Phase, anchorUtc, anchor, new Interval(phase.FirstStartAt, phase.LastEndAt), phase);
        if (timings.DecodeInterval is { } decode) Stage(request, "glance.decode", anchorUtc, anchor, decode, null);
        if (timings.PngInterval is { } png) Stage(request, "glance.png", anchorUtc, anchor, png, null);
        Activity.Current = current;
    }

    static void Stage(Activity parent, string name, DateTimeOffset anchorUtc, long anchor, Interval interval, PhaseTiming? phase)
    {
        DateTimeOffset start = anchorUtc + Stopwatch.GetElapsedTime(anchor, interval.StartAt);
        using Activity? stage = Source.StartActivity(name, ActivityKind.Internal, parent.Context, startTime: start);
        if (stage is null) return;
        if (phase is not null)
        {
            // A phase span runs from its first step to its last; only the steps themselves count as busy time.
            stage.SetTag("glance.steps", phase.Steps);
            stage.SetTag("glance.busy_ms", phase.Busy.TotalMilliseconds);
        }
        stage.SetEndTime((start + interval.Duration).UtcDateTime);
    }
}
