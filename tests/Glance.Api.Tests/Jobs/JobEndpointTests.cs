using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;
using Glance.Contracts.Jobs;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Jobs;

public class JobEndpointTests
{
    static async Task<(JobResponse Job, Uri Location)> SubmitAsync(HttpClient client, GenerateRequest request)
    {
        using HttpResponseMessage response = await client.PostAsync("/jobs", GlanceApp.Json(request));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        JobResponse? job = await response.Content.ReadFromJsonAsync<JobResponse>();
        Assert.NotNull(job);
        return (job, response.Headers.Location!);
    }

    [Fact]
    public async Task JobCompletesAndServesItsImage()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        (JobResponse submitted, Uri location) = await SubmitAsync(client, new GenerateRequest("a cat", Seed: 5));
        JobResponse done = await JobPolling.WaitForStatusAsync(client, submitted.Id, JobStatus.IsTerminal);

        Assert.Equal(JobStatus.Queued, submitted.Status);
        Assert.Equal($"/jobs/{submitted.Id}", location.OriginalString);
        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(5, done.Step);
        Assert.Equal(5, done.TotalSteps);
        Assert.Equal("fast", done.Phase);
        Assert.Null(done.Error);
        Assert.Equal(["queue", "encode", "slow", "fast", "decode", "png", "total"], done.Timings.Keys);
        using HttpResponseMessage image = await client.GetAsync($"/jobs/{submitted.Id}/image");
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(FakeEngine.Image(new GenerationSpec("a cat", null, 32, 32, 5)).Rgb, PngEncoding.Decode(await image.Content.ReadAsStreamAsync()).Rgb);
    }

    [Fact]
    public async Task RunningJobReportsStepAndPhase()
    {
        var engine = new FakeEngine { SlowSteps = 2, FastSteps = 2 };
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();
        engine.CloseGate();

        (JobResponse submitted, _) = await SubmitAsync(client, new GenerateRequest("a cat"));
        await Eventually.TrueAsync(() => engine.StepsEntered == 1, "the first step");
        JobResponse started = await JobPolling.WaitForStatusAsync(client, submitted.Id, status => status == JobStatus.Running);
        using HttpResponseMessage early = await client.GetAsync($"/jobs/{submitted.Id}/image");
        // Hold the job after its last slow step, then after its first fast one: the phase must change exactly there.
        engine.HoldStepsAfter(2);
        await Eventually.TrueAsync(() => engine.StepsEntered == 3, "the third step to reach the gate");
        JobResponse lastSlow = await JobPolling.WaitForAsync(client, submitted.Id, job => job.Step == 2, "step 2");
        engine.HoldStepsAfter(3);
        await Eventually.TrueAsync(() => engine.StepsEntered == 4, "the fourth step to reach the gate");
        JobResponse firstFast = await JobPolling.WaitForAsync(client, submitted.Id, job => job.Step == 3, "step 3");
        engine.OpenGate();

        Assert.Equal((0, 4, (string?)null), (started.Step, started.TotalSteps, started.Phase));
        await ProblemAssert.IsProblemAsync(early, HttpStatusCode.Conflict, "job-not-completed");
        Assert.Equal((JobStatus.Running, 2, 4, "slow"), (lastSlow.Status, lastSlow.Step, lastSlow.TotalSteps, lastSlow.Phase));
        Assert.Equal((JobStatus.Running, 3, 4, "fast"), (firstFast.Status, firstFast.Step, firstFast.TotalSteps, firstFast.Phase));
    }

    [Fact]
    public async Task DeleteCancelsJobAtNextStep()
    {
        var engine = new FakeEngine { SlowSteps = 5, FastSteps = 5 };
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();
        engine.CloseGate();
        (JobResponse submitted, _) = await SubmitAsync(client, new GenerateRequest("a cat"));
        await Eventually.TrueAsync(() => engine.StepsEntered == 1, "the job's first step to start");

        using HttpResponseMessage deleted = await client.DeleteAsync($"/jobs/{submitted.Id}");
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        engine.OpenGate();
        JobResponse cancelled = await JobPolling.WaitForStatusAsync(client, submitted.Id, JobStatus.IsTerminal);

        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.Equal(ProblemAssert.TypeBase + "cancelled", cancelled.Error?.Type);
        // The step under way when the cancel came finishes; no further step runs and the state is disposed.
        Assert.Single(engine.Steps);
        await Eventually.TrueAsync(() => engine.LiveStates == 0, "the job's state to be disposed");
        using HttpResponseMessage again = await client.DeleteAsync($"/jobs/{submitted.Id}");
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict, "job-finished");
    }

    [Fact]
    public async Task SseEventsArriveInOrder()
    {
        var engine = new FakeEngine { SlowSteps = 2, FastSteps = 2 };
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();

        (JobResponse submitted, _) = await SubmitAsync(client, new GenerateRequest("a cat"));
        using HttpResponseMessage response = await client.GetAsync($"/jobs/{submitted.Id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string stream = await response.Content.ReadAsStringAsync();

        List<(string Event, JobEvent Data)> events = JobEvents.Parse(stream);
        Assert.Equal(["queued", "phase", "step", "step", "phase", "step", "step", "completed"], events.Select(e => e.Event));
        Assert.Equal([null, "slow", "slow", "slow", "fast", "fast", "fast", "fast"], events.Select(e => e.Data.Phase));
        Assert.Equal([1, 2, 3, 4], events.Where(e => e.Event == "step").Select(e => e.Data.Step));
        Assert.All(events, e => Assert.Equal(submitted.Id, e.Data.JobId));
    }

    [Fact]
    public async Task FailedJobReportsTheEngineFailure()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        (JobResponse submitted, _) = await SubmitAsync(client, new GenerateRequest(FakeEngine.FailOnStep));
        JobResponse failed = await JobPolling.WaitForStatusAsync(client, submitted.Id, JobStatus.IsTerminal);
        using HttpResponseMessage events = await client.GetAsync($"/jobs/{submitted.Id}/events");

        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal(ProblemAssert.TypeBase + "engine-failure", failed.Error?.Type);
        Assert.Equal("failed", JobEvents.Parse(await events.Content.ReadAsStringAsync())[^1].Event);
    }

    [Theory]
    [InlineData("GET", "/jobs/nope")]
    [InlineData("GET", "/jobs/nope/image")]
    [InlineData("GET", "/jobs/nope/events")]
    [InlineData("DELETE", "/jobs/nope")]
    public async Task UnknownJobIs404Problem(string method, string path)
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "job-not-found");
    }

    [Fact]
    public async Task InvalidJobIsRefusedLikeGenerate()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/jobs", GlanceApp.Json(new GenerateRequest("a", Width: 33)));

        JsonElement problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty("width", out _));
    }
}
