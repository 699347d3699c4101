using Microsoft.AspNetCore.Http.HttpResults;
using Glance.Api.Options;
using Glance.Api.Scheduling;
using Glance.Api.Telemetry;
using Glance.Engine.Serving;
using Microsoft.Extensions.Options;

namespace Glance.Api.Endpoints;

/// <summary>One finished image with the spec and timings that produced it.</summary>
internal sealed record GeneratedImage(GenerationSpec Spec, byte[] Png, IReadOnlyDictionary<string, double> Timings, IReadOnlyList<PromptTruncation> Truncations);

/// <summary>Runs image requests for an HTTP request that waits for them, cancelling them if the client goes away.</summary>
internal sealed class ImageGeneration(GenerationScheduler scheduler, IOptions<RequestOptions> options, TimeProvider time)
{
    /// <summary>The images in spec order, or the problem that stopped them (the first request's to fail).</summary>
    public async Task<(IReadOnlyList<GeneratedImage>? Images, ProblemHttpResult? Problem)> RunAsync(
        IReadOnlyList<GenerationSpec> specs, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(http);
        List<WorkItem> items = [.. specs.Select(spec =>
            new WorkItem(spec, http.TraceIdentifier, options.Value.Timeout, time, http.RequestAborted))];
        // Spans start before submission so that they cover the queue time.
        List<System.Diagnostics.Activity?> activities = [.. items.Select(RequestTracing.StartRequest)];
        try
        {
            SubmitStatus status = scheduler.Submit(items);
            if (status != SubmitStatus.Accepted)
                return (null, GenerationProblems.Refused(status, http.Response, scheduler.RetryAfterSeconds));

            WorkResult[] results = await Task.WhenAll(items.Select(item => item.Completion)).ConfigureAwait(false);
            for (int i = 0; i < items.Count; i++)
                RequestTracing.Finish(activities[i], items[i], results[i]);
            WorkResult? failed = Array.Find(results, result => result.Outcome != WorkOutcome.Completed);
            if (failed is not null) return (null, GenerationProblems.Ended(failed));
            return ([.. items.Select((item, i) => new GeneratedImage(item.Spec, results[i].Png!, item.Timings.ToMilliseconds(), item.Truncations))], null);
        }
        finally
        {
            foreach (System.Diagnostics.Activity? activity in activities) activity?.Dispose();
            foreach (WorkItem item in items) item.Dispose();
        }
    }
}
