using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;

namespace Glance.Api.Tests.Endpoints;

public class ObservabilityTests
{
    [Fact]
    public async Task MetricsExposePhaseDurationsBatchSizesQueueDepthAndOutcomes()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();
        using HttpResponseMessage generated = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a")));
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);

        using HttpResponseMessage response = await client.GetAsync("/metrics");
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        foreach (string phase in new[] { "queue", "encode", "slow", "fast", "decode", "png" })
            Assert.Contains($"glance_phase_duration_seconds_count{{otel_scope_name=\"Glance.Server\",phase=\"{phase}\"}}", text, StringComparison.Ordinal);
        Assert.Contains("glance_batch_size_count", text, StringComparison.Ordinal);
        Assert.Contains("glance_queue_depth", text, StringComparison.Ordinal);
        Assert.Contains("glance_requests_total{otel_scope_name=\"Glance.Server\",outcome=\"completed\"}", text, StringComparison.Ordinal);
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
