using System.Net;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;

namespace Glance.Api.Tests.Scheduling;

/// <summary>Engine calls that run out of device memory (as the fake engine throws it, in libtorch's words) with several requests.</summary>
public class OutOfMemoryTests
{
    static Task<HttpResponseMessage> Generate(HttpClient client, string prompt, long seed) =>
        client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest(prompt, Seed: seed)));

    [Fact]
    public async Task AStepThatRunsOutOfMemoryRunsAgainInHalvesAndLaterStepsStayAtTheLowerCap()
    {
        var engine = new FakeEngine { StepMemoryLimit = 2 };
        await using var app = new GlanceApp(engine, new Dictionary<string, string?> { ["Glance:Batching:MaxBatchSize"] = "4" });
        using HttpClient client = await app.ReadyClientAsync();

        HttpResponseMessage[] responses = await Lockstep.GenerateAsync(app, engine, client, 4);

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var steps = engine.Steps;
        // One attempt over more than two requests, the one that failed; none after it, with the cap at two.
        Assert.Single(steps, step => step.Requests.Count > 2);
        // Each request took each of its planned steps exactly once, in order: no state advanced in the failed attempt.
        var succeeded = steps.Where(step => step.Requests.Count <= 2).SelectMany(step => step.Requests).ToList();
        int planned = engine.SlowSteps + engine.FastSteps;
        foreach (long seed in new long[] { 0, 1, 2, 3 })
            Assert.Equal(Enumerable.Range(0, planned), succeeded.Where(r => r.Seed == seed).Select(r => r.StepIndex));
        Assert.Equal(0, engine.LiveStates);
        foreach (HttpResponseMessage response in responses) response.Dispose();
    }

    [Fact]
    public async Task ADecodeThatRunsOutOfMemoryRunsAgainInHalvesUntilItFits()
    {
        var engine = new FakeEngine { DecodeMemoryLimit = 1 };
        await using var app = new GlanceApp(engine, new Dictionary<string, string?> { ["Glance:Batching:MaxBatchSize"] = "4" });
        using HttpClient client = await app.ReadyClientAsync();

        HttpResponseMessage[] responses = await Lockstep.GenerateAsync(app, engine, client, 4);

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var decodes = engine.Calls.Where(call => call.Operation == "decode").ToList();
        Assert.Equal([0L, 1, 2, 3], decodes.Where(call => call.Requests.Count == 1).SelectMany(call => call.Requests).Select(r => r.Seed).Order());
        Assert.Contains(decodes, call => call.Requests.Count > 1);
        foreach (HttpResponseMessage response in responses) response.Dispose();
    }

    [Fact]
    public async Task ARequestThatDoesNotFitAloneFailsSayingTheDeviceRanOutOfMemory()
    {
        var engine = new FakeEngine { StepMemoryLimit = 0 };
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await Generate(client, "a cat", 1);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.InternalServerError, "engine-failure");
        Assert.Contains("ran out of memory", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, engine.LiveStates);
    }
}
