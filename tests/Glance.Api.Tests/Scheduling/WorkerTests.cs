using System.Net;
using System.Text.Json;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;
using Microsoft.Extensions.Time.Testing;

namespace Glance.Api.Tests.Scheduling;

public class WorkerTests
{
    static Task<HttpResponseMessage> Generate(HttpClient client, string prompt, long seed, CancellationToken cancellationToken = default) =>
        client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest(prompt, Seed: seed)), cancellationToken);

    [Fact]
    public async Task MixedPhasesRunInOneBatch()
    {
        var engine = new FakeEngine { SlowSteps = 2, FastSteps = 4 };
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();

        // Hold the engine after the first request's two slow steps, then let a second request arrive.
        engine.HoldStepsAfter(2);
        Task<HttpResponseMessage> first = Generate(client, "first", 1);
        await Eventually.TrueAsync(() => engine.StepsEntered == 3, "the third step to reach the gate");
        Task<HttpResponseMessage> second = Generate(client, "second", 2);
        await Eventually.TrueAsync(() => app.Services.GetQueueCount() == 1, "the second request to wait");
        engine.OpenGate();
        using HttpResponseMessage firstResponse = await first;
        using HttpResponseMessage secondResponse = await second;

        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        Assert.Contains(engine.Steps, step =>
            step.Requests.Any(r => r.Seed == 1 && r.Phase == "fast") && step.Requests.Any(r => r.Seed == 2 && r.Phase == "slow"));
        // Both text encodings happened in separate Start calls, each request exactly once.
        Assert.Equal([1L, 2], engine.Calls.Where(c => c.Operation == "start").SelectMany(c => c.Requests).Select(r => r.Seed).Order());
    }

    [Fact]
    public async Task ConcurrentArrivalsShareStartStepAndDecodeCalls()
    {
        var engine = new FakeEngine();
        await using var app = new GlanceApp(engine, new Dictionary<string, string?> { ["Glance:Batching:MaxBatchSize"] = "4" });
        using HttpClient client = await app.ReadyClientAsync();

        HttpResponseMessage[] responses = await Lockstep.GenerateAsync(app, engine, client, 4);

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Contains(engine.Calls, call => call.Operation == "start" && call.Requests.Count == 3);
        Assert.Contains(engine.Calls, call => call.Operation == "step" && call.Requests.Count == 4);
        Assert.Contains(engine.Calls, call => call.Operation == "decode" && call.Requests.Count == 3);
        foreach (HttpResponseMessage response in responses) response.Dispose();
    }

    [Fact]
    public async Task AllEngineCallsHappenOnOneThread()
    {
        var engine = new FakeEngine();
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();

        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(seed => Generate(client, "p", seed)));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        int engineThread = Assert.Single(engine.Calls.Select(call => call.ThreadId).Distinct());
        Assert.Equal(app.EngineFactory.CreatingThreadId, engineThread);
        Assert.Equal(0, engine.LiveStates);
        foreach (HttpResponseMessage response in responses) response.Dispose();
    }

    [Fact]
    public async Task FullQueueReturns429WithRetryAfter()
    {
        var engine = new FakeEngine();
        await using var app = new GlanceApp(engine, new Dictionary<string, string?>
        {
            ["Glance:Queue:Capacity"] = "1",
            ["Glance:Batching:MaxBatchSize"] = "1",
            ["Glance:Batching:MaxRunning"] = "1",
        });
        using HttpClient client = await app.ReadyClientAsync();

        engine.CloseGate();
        Task<HttpResponseMessage> running = Generate(client, "running", 1);
        await Eventually.TrueAsync(() => engine.StepsEntered == 1, "the first request to run");
        Task<HttpResponseMessage> waiting = Generate(client, "waiting", 2);
        await Eventually.TrueAsync(() => app.Services.GetQueueCount() == 1, "the second request to wait");
        using HttpResponseMessage refused = await Generate(client, "refused", 3);

        JsonElement problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests, "queue-full");
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("retry", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        engine.OpenGate();
        using HttpResponseMessage first = await running;
        using HttpResponseMessage second = await waiting;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    [Fact]
    public async Task TimeoutCancelsRequest()
    {
        // The request's time limit runs on the test's clock: it passes only when the test moves the clock, never
        // because the machine was slow, and it passes while a step is held at the gate.
        var time = new FakeTimeProvider();
        TimeSpan limit = TimeSpan.FromSeconds(10);
        var engine = new FakeEngine { SlowSteps = 5, FastSteps = 5 };
        await using var app = new GlanceApp(engine, new Dictionary<string, string?> { ["Glance:Requests:TimeoutSeconds"] = "10" }, time: time);
        using HttpClient client = await app.ReadyClientAsync();

        engine.HoldStepsAfter(1);
        Task<HttpResponseMessage> pending = Generate(client, "slow", 1);
        await Eventually.TrueAsync(() => engine.StepsEnteredFor(1) == 2, "the request's second step to reach the gate");
        // Just short of the limit the request goes on: its second step runs and the third begins.
        time.Advance(limit - TimeSpan.FromMilliseconds(1));
        engine.HoldStepsAfter(2);
        await Eventually.TrueAsync(() => engine.StepsEnteredFor(1) == 3 || pending.IsCompleted, "the request's third step to reach the gate");
        Assert.False(pending.IsCompleted, "The request ended before its time limit.");
        // The limit passes while the third step is under way: that step finishes and no other begins.
        time.Advance(TimeSpan.FromMilliseconds(1));
        engine.OpenGate();
        using HttpResponseMessage response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout, "timeout");
        Assert.Equal(3, engine.StepsEnteredFor(1));
        await Eventually.TrueAsync(() => engine.LiveStates == 0, "the cancelled state to be disposed");
        Assert.DoesNotContain(engine.Calls, call => call.Operation == "decode");
    }

    [Fact]
    public async Task ClientDisconnectCancelsRequestAtNextStep()
    {
        var engine = new FakeEngine { SlowSteps = 5, FastSteps = 5 };
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();
        using var gone = new CancellationTokenSource();

        // Two steps run; the third is under way (held at the gate) when the client goes away.
        engine.HoldStepsAfter(2);
        Task<HttpResponseMessage> abandoned = Generate(client, "abandoned", 1, gone.Token);
        await Eventually.TrueAsync(() => engine.StepsEnteredFor(1) == 3, "the request's third step to reach the gate");
        // TestServer cancels RequestAborted within the token's callbacks, which CancelAsync awaits: the server has seen the
        // disconnect before the held step is let go. The client's call ends only once the server has ended the request.
        await gone.CancelAsync();
        engine.OpenGate();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.WaitAsync(TimeSpan.FromSeconds(10)));

        await Eventually.TrueAsync(() => engine.LiveStates == 0, "the abandoned state to be disposed");
        // Only the step under way finishes: no step begins for the request after the disconnect.
        Assert.Equal(3, engine.StepsEnteredFor(1));
        Assert.DoesNotContain(engine.Calls, call => call.Operation == "decode");
        using HttpResponseMessage next = await Generate(client, "next", 2);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(3, engine.StepsEnteredFor(1));
    }

    [Fact]
    public async Task EngineFailureReturns500AndWorkerContinues()
    {
        var engine = new FakeEngine();
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage failed = await Generate(client, "please " + FakeEngine.FailOnStep, 1);
        using HttpResponseMessage next = await Generate(client, "a cat", 2);

        await ProblemAssert.IsProblemAsync(failed, HttpStatusCode.InternalServerError, "engine-failure");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(0, engine.LiveStates);
    }
}
