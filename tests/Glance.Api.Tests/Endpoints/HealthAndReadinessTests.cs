using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts;
using Glance.Contracts.Generation;

namespace Glance.Api.Tests.Endpoints;

public class HealthAndReadinessTests
{
    [Fact]
    public async Task ReadyzIs503UntilWarmedUpThen200()
    {
        var engine = new FakeEngine { WarmUpDelay = TimeSpan.FromMilliseconds(500) };
        await using var app = new GlanceApp(engine);
        using HttpClient client = app.CreateClient();

        using HttpResponseMessage early = await client.GetAsync("/readyz");
        using HttpResponseMessage alive = await client.GetAsync("/healthz");
        using HttpClient ready = await app.ReadyClientAsync();
        ServiceStatus? status = await ready.GetFromJsonAsync<ServiceStatus>("/readyz");

        await ProblemAssert.IsProblemAsync(early, HttpStatusCode.ServiceUnavailable, "not-ready");
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
        var engine = new FakeEngine { WarmUpDelay = TimeSpan.FromMilliseconds(300) };
        await using var app = new GlanceApp(engine);
        using HttpClient client = app.CreateClient();
        await Eventually.TrueAsync(() => app.Services.GetLifecycle().Description is not null, "the engine to load");

        using HttpResponseMessage response = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
