using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;

namespace Glance.Api.Tests.Endpoints;

/// <summary>
/// Apps in one process share metrics by meter name, and OpenTelemetry stops exporting a meter's instruments in every
/// app when any app disposes its meter of that name (open-telemetry/opentelemetry-dotnet#6412): a test that reads
/// /metrics must not run while other tests start and stop apps.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsAlone
{
    public const string Name = "Metrics, run alone";
}

[Collection(MetricsAlone.Name)]
public class ObservabilityTests
{
    [Fact]
    public async Task MetricsExposePhaseDurationsBatchSizesQueueDepthAndOutcomes()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();
        using HttpResponseMessage generated = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a")));
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);

        // The worker records a request's metrics before it answers; the scrape is still repeated until everything the
        // request records is there (or the scrape fails, or 10 s pass), so that no exporter detail can race it, then checked.
        string[] expected =
        [
            .. new[] { "queue", "encode", "slow", "fast", "decode", "png" }.Select(phase =>
                $"glance_phase_duration_seconds_count{{otel_scope_name=\"Glance.Server\",phase=\"{phase}\"}}"),
            "glance_batch_size_count",
            "glance_queue_depth",
            "glance_requests_total{otel_scope_name=\"Glance.Server\",adapters=\"default\",outcome=\"completed\"}",
            "glance_request_duration_seconds_count{otel_scope_name=\"Glance.Server\",adapters=\"default\"}",
        ];
        HttpStatusCode status = default;
        string? mediaType = null;
        string text = "";
        _ = await Eventually.BecomesTrueAsync(async () =>
        {
            using HttpResponseMessage response = await client.GetAsync("/metrics");
            (status, mediaType, text) = (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
            return status != HttpStatusCode.OK || expected.All(line => text.Contains(line, StringComparison.Ordinal));
        });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("text/plain", mediaType, StringComparison.Ordinal);
        Assert.All(expected, line => Assert.Contains(line, text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EachRequestHasASpanWithChildSpansPerPhase()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Glance.Server",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();
        const long seed = 918_273_645;

        using HttpResponseMessage response = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a", Seed: seed)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Activity request = await WaitForRequestSpan(spans, seed);
        string[] children = [.. spans.Where(s => s.ParentSpanId == request.SpanId).OrderBy(s => s.StartTimeUtc).Select(s => s.OperationName)];
        Assert.Equal(["glance.queue", "glance.encode", "glance.phase.slow", "glance.phase.fast", "glance.decode", "glance.png"], children);
    }

    static async Task<Activity> WaitForRequestSpan(ConcurrentBag<Activity> spans, long seed)
    {
        Activity? found = null;
        await Eventually.TrueAsync(() =>
        {
            found = spans.FirstOrDefault(s => s.OperationName == "glance.generate" && Equals(s.GetTagItem("glance.seed"), seed));
            return found is not null;
        }, "the request span");
        return found!;
    }
}
