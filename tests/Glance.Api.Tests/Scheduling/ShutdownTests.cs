using System.Net;
using Glance.Api.Scheduling;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Glance.Api.Tests.Scheduling;

public class ShutdownTests
{
    static Task<HttpResponseMessage> Generate(HttpClient client, long seed) =>
        client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("p", Seed: seed)));

    [Fact]
    public async Task ShutdownDrainsInFlight()
    {
        var engine = new FakeEngine();
        await using var app = new GlanceApp(engine, new Dictionary<string, string?>
        {
            // A grace no test run outlasts: the drain, not the grace's expiry, is under test here.
            ["Glance:Shutdown:GraceSeconds"] = "3600",
            ["Glance:Batching:MaxBatchSize"] = "1",
            ["Glance:Batching:MaxRunning"] = "1",
        });
        using HttpClient client = await app.ReadyClientAsync();
        engine.CloseGate();
        Task<HttpResponseMessage> running = Generate(client, 1);
        await Eventually.TrueAsync(() => engine.StepsEntered == 1, "the first request to run");
        Task<HttpResponseMessage> waiting = Generate(client, 2);
        await Eventually.TrueAsync(() => app.Services.GetQueueCount() == 1, "the second request to wait");

        // The worker's own stop (as the host calls it) so that the host stays up to answer during the drain.
        EngineWorker worker = app.Services.GetServices<IHostedService>().OfType<EngineWorker>().Single();
        Task stopping = worker.StopAsync(CancellationToken.None);
        using HttpResponseMessage ready = await client.GetAsync("/readyz");
        using HttpResponseMessage late = await Generate(client, 3);
        engine.OpenGate();
        // The time limits only keep a request the server never ends from hanging the test.
        using HttpResponseMessage first = await running.WaitAsync(TimeSpan.FromSeconds(10));
        using HttpResponseMessage second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable, "shutting-down");
        await ProblemAssert.IsProblemAsync(late, HttpStatusCode.ServiceUnavailable, "shutting-down");
        Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        Assert.True(second.StatusCode == HttpStatusCode.OK, await second.Content.ReadAsStringAsync());
        Assert.Equal(ServerState.Stopped, app.Services.GetLifecycle().State);
        Assert.True(engine.IsDisposed);
    }

    [Fact]
    public async Task StoppingTheHostDrainsTheWorker()
    {
        var engine = new FakeEngine();
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();
        ServerLifecycle lifecycle = app.Services.GetLifecycle();

        app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        await Eventually.TrueAsync(() => lifecycle.State == ServerState.Stopped, "the worker to stop");
        Assert.True(engine.IsDisposed);
    }

    [Fact]
    public async Task GraceExpiryCancelsTheRest()
    {
        var engine = new FakeEngine { SlowSteps = 3, FastSteps = 3 };
        await using var app = new GlanceApp(engine, new Dictionary<string, string?>
        {
            ["Glance:Shutdown:GraceSeconds"] = "0.2",
            ["Glance:Batching:MaxBatchSize"] = "1",
            ["Glance:Batching:MaxRunning"] = "1",
        });
        using HttpClient client = await app.ReadyClientAsync();
        engine.CloseGate();
        Task<HttpResponseMessage> running = Generate(client, 1);
        await Eventually.TrueAsync(() => engine.StepsEntered == 1, "the first request to run");
        Task<HttpResponseMessage> waiting = Generate(client, 2);
        await Eventually.TrueAsync(() => app.Services.GetQueueCount() == 1, "the second request to wait");

        // The running request's step stays held until the grace is over and the worker has said it gives up.
        EngineWorker worker = app.Services.GetServices<IHostedService>().OfType<EngineWorker>().Single();
        Task stopping = worker.StopAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => app.Logs.Has("GraceExpired"), "the grace period to run out");
        engine.OpenGate();
        // The time limits only keep a request the server never ends from hanging the test.
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        using HttpResponseMessage first = await running.WaitAsync(TimeSpan.FromSeconds(10));
        using HttpResponseMessage second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        await ProblemAssert.IsProblemAsync(first, HttpStatusCode.ServiceUnavailable, "shutting-down");
        await ProblemAssert.IsProblemAsync(second, HttpStatusCode.ServiceUnavailable, "shutting-down");
        Assert.Single(engine.Steps);
        Assert.Equal(0, engine.LiveStates);
    }
}
