using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Api.Jobs;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;
using Glance.Contracts.Jobs;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Glance.Api.Tests.Redis;

/// <summary>Two replicas (two hosts, each with its own fake engine) sharing one Redis: jobs submitted to one are served by the other.</summary>
[Collection(RedisTests.Name)]
public sealed class SharedJobsAcrossReplicasTests(RedisServer server)
{
    readonly string prefix = RedisServer.UniquePrefix();

    GlanceApp Replica(FakeEngine engine) => new(engine, new Dictionary<string, string?>
    {
        ["Glance:Jobs:Redis"] = server.ConnectionString,
        ["Glance:Jobs:RedisKeyPrefix"] = prefix,
    });

    static async Task<JobResponse> SubmitAsync(HttpClient client, GenerateRequest request)
    {
        using HttpResponseMessage response = await client.PostAsync("/jobs", GlanceApp.Json(request));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JobResponse>())!;
    }

    [Fact]
    public async Task ConfiguredRedisReplacesTheInMemoryStore()
    {
        await using GlanceApp shared = Replica(new FakeEngine());
        await using var local = new GlanceApp();

        Assert.IsType<RedisJobStore>(shared.Services.GetRequiredService<IJobStore>());
        Assert.IsType<RedisJobCancellation>(shared.Services.GetRequiredService<IJobCancellation>());
        Assert.IsType<InMemoryJobStore>(local.Services.GetRequiredService<IJobStore>());
        Assert.IsType<LocalJobCancellation>(local.Services.GetRequiredService<IJobCancellation>());
    }

    [Fact]
    public async Task JobRunOnOneReplicaIsReadAndStreamedThroughAnother()
    {
        var runner = new FakeEngine { SlowSteps = 2, FastSteps = 2 };
        var other = new FakeEngine();
        await using GlanceApp a = Replica(runner);
        await using GlanceApp b = Replica(other);
        using HttpClient clientA = await a.ReadyClientAsync();
        using HttpClient clientB = await b.ReadyClientAsync();
        runner.CloseGate();

        JobResponse submitted = await SubmitAsync(clientA, new GenerateRequest("a cat", Seed: 7));
        await Eventually.TrueAsync(() => runner.StepsEntered == 1, "the job's first step on replica A");
        // Follow from B while the job is held mid-run on A, so the stream carries live events, not just history.
        using HttpResponseMessage events = await clientB.GetAsync($"/jobs/{submitted.Id}/events", HttpCompletionOption.ResponseHeadersRead);
        Task<string> stream = events.Content.ReadAsStringAsync();
        JobResponse running = await JobPolling.WaitForStatusAsync(clientB, submitted.Id, status => status == JobStatus.Running);
        runner.OpenGate();
        List<(string Event, JobEvent Data)> received = JobEvents.Parse(await stream.WaitAsync(TimeSpan.FromSeconds(10)));
        JobResponse done = await JobPolling.WaitForStatusAsync(clientB, submitted.Id, JobStatus.IsTerminal);
        using HttpResponseMessage image = await clientB.GetAsync($"/jobs/{submitted.Id}/image");

        Assert.Equal(JobStatus.Running, running.Status);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["queued", "phase", "step", "step", "phase", "step", "step", "completed"], received.Select(e => e.Event));
        Assert.Equal([1, 2, 3, 4], received.Where(e => e.Event == "step").Select(e => e.Data.Step));
        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(4, done.Step);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal(FakeEngine.Image(new GenerationSpec("a cat", null, 32, 32, 7)).Rgb, PngEncoding.Decode(await image.Content.ReadAsStreamAsync()).Rgb);
        Assert.Empty(other.Steps);
    }

    [Fact]
    public async Task DeleteThroughAnotherReplicaCancelsTheJobWhereItRuns()
    {
        var runner = new FakeEngine { SlowSteps = 5, FastSteps = 5 };
        await using GlanceApp a = Replica(runner);
        await using GlanceApp b = Replica(new FakeEngine());
        using HttpClient clientA = await a.ReadyClientAsync();
        using HttpClient clientB = await b.ReadyClientAsync();
        runner.CloseGate();
        JobResponse submitted = await SubmitAsync(clientA, new GenerateRequest("a cat"));
        await Eventually.TrueAsync(() => runner.StepsEntered == 1, "the job's first step on replica A");

        using HttpResponseMessage deleted = await clientB.DeleteAsync($"/jobs/{submitted.Id}");
        JobRunner runnerA = a.Services.GetRequiredService<JobRunner>();
        await Eventually.TrueAsync(() => runnerA.IsCancelling(submitted.Id), "replica A to receive the cancel request");
        runner.OpenGate();
        JobResponse cancelled = await JobPolling.WaitForStatusAsync(clientB, submitted.Id, JobStatus.IsTerminal);
        using HttpResponseMessage again = await clientB.DeleteAsync($"/jobs/{submitted.Id}");

        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.Equal(ProblemAssert.TypeBase + "cancelled", cancelled.Error?.Type);
        // The step under way when the cancel came finishes; no further step runs and the state is disposed.
        Assert.Single(runner.Steps);
        await Eventually.TrueAsync(() => runner.LiveStates == 0, "the job's state to be disposed");
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict, "job-finished");
    }

    [Fact]
    public async Task ReplicaStartsAndGeneratesWhileRedisIsDown()
    {
        await using var app = new GlanceApp(new FakeEngine(), new Dictionary<string, string?>
        {
            ["Glance:Jobs:Redis"] = $"127.0.0.1:{RedisServer.ClosedPort()},connectTimeout=200,asyncTimeout=300,syncTimeout=300",
        });
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage generated = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a cat")));
        using HttpResponseMessage job = await client.PostAsync("/jobs", GlanceApp.Json(new GenerateRequest("a cat")));

        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, job.StatusCode);
    }

    [Fact]
    public async Task UnknownJobIs404OnEveryReplica()
    {
        await using GlanceApp a = Replica(new FakeEngine());
        await using GlanceApp b = Replica(new FakeEngine());
        using HttpClient clientA = await a.ReadyClientAsync();
        using HttpClient clientB = await b.ReadyClientAsync();
        // A job submitted to A and read through B shows that both replicas use the same store.
        JobResponse known = await SubmitAsync(clientA, new GenerateRequest("a cat"));
        await JobPolling.WaitForStatusAsync(clientB, known.Id, JobStatus.IsTerminal);

        foreach ((string replica, HttpClient client) in new[] { ("A", clientA), ("B", clientB) })
        {
            foreach ((HttpMethod method, string path) in new[]
            {
                (HttpMethod.Get, "/jobs/nope"), (HttpMethod.Get, "/jobs/nope/image"),
                (HttpMethod.Get, "/jobs/nope/events"), (HttpMethod.Delete, "/jobs/nope"),
            })
            {
                using var request = new HttpRequestMessage(method, path);
                // The timeout only guards against a stream that never ends.
                using HttpResponseMessage response = await client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(10));
                Assert.True(response.StatusCode == HttpStatusCode.NotFound,
                    $"{method} {path} on replica {replica}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                JsonElement problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "job-not-found");
                Assert.Contains("'nope'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }
    }
}
