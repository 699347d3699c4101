using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts;
using Glance.Contracts.Generation;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Endpoints;

public class HealthAndReadinessTests
{
    [Fact]
    public async Task ReadyzIs503UntilWarmedUpThen200()
    {
        var engine = new FakeEngine();
        engine.HoldWarmUp();
        await using var app = new GlanceApp(engine);
        using HttpClient client = app.CreateClient();
        // The engine is loaded and its warm-up is held under way: the server must not call itself ready yet.
        await Eventually.TrueAsync(() => engine.WarmUpEntered, "the warm-up to begin");

        using HttpResponseMessage early = await client.GetAsync("/readyz");
        using HttpResponseMessage alive = await client.GetAsync("/healthz");
        engine.ReleaseWarmUp();
        using HttpClient ready = await app.ReadyClientAsync();
        ServiceStatus? status = await ready.GetFromJsonAsync<ServiceStatus>("/readyz");

        JsonElement problem = await ProblemAssert.IsProblemAsync(early, HttpStatusCode.ServiceUnavailable, "not-ready");
        Assert.Contains("warming up", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(new ServiceStatus("ready", "fake-flux", "cpu"), status);
    }

    [Fact]
    public async Task FailedEngineLoadIsReportedAndRequestsAreRefused()
    {
        await using var app = new GlanceApp(engineFactory: new FailingEngineFactory("no weights at /models/flux"));
        using HttpClient client = app.CreateClient();
        await Eventually.TrueAsync(() => app.Services.GetLifecycle().State == Glance.Api.Scheduling.ServerState.Faulted, "the load to fail");

        using HttpResponseMessage ready = await client.GetAsync("/readyz");
        using HttpResponseMessage generate = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a")));
        using HttpResponseMessage alive = await client.GetAsync("/healthz");

        JsonElement problem = await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable, "engine-unavailable");
        Assert.Contains("no weights at /models/flux", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ProblemAssert.IsProblemAsync(generate, HttpStatusCode.ServiceUnavailable, "engine-unavailable");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task RequestsDuringWarmUpWaitAndComplete()
    {
        var engine = new FakeEngine();
        engine.HoldWarmUp();
        await using var app = new GlanceApp(engine);
        using HttpClient client = app.CreateClient();
        await Eventually.TrueAsync(() => engine.WarmUpEntered, "the warm-up to begin");

        Task<HttpResponseMessage> pending = client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a", Seed: 3)));
        await Eventually.TrueAsync(() => app.Services.GetQueueCount() == 1 || pending.IsCompleted, "the request to be queued");
        Assert.False(pending.IsCompleted, "The request was answered while the engine was still warming up.");
        using HttpResponseMessage warming = await client.GetAsync("/readyz");
        await ProblemAssert.IsProblemAsync(warming, HttpStatusCode.ServiceUnavailable, "not-ready");
        engine.ReleaseWarmUp();
        using HttpResponseMessage response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(FakeEngine.Image(new GenerationSpec("a", null, 32, 32, 3)).Rgb, PngEncoding.Decode(await response.Content.ReadAsStreamAsync()).Rgb);
    }
}
