using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Scheduling;

/// <summary>Training jobs share the engine thread's time with generation under Glance:Training:MaxShare.</summary>
public sealed class TrainingInterleavingTests : IDisposable
{
    readonly string _registry = Path.Combine(Path.GetTempPath(), "glance-training-share-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_registry)) Directory.Delete(_registry, recursive: true);
    }

    static async Task<string> TrainAsync(HttpClient client, int steps)
    {
        using var content = new MultipartFormDataContent();
        var image = new ByteArrayContent(PngEncoding.Encode(new DecodedImage(32, 32, new byte[32 * 32 * 3])));
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        content.Add(image, "image", "pair.png");
        content.Add(new StringContent("a red circle"), "caption");
        content.Add(new StringContent(steps.ToString(System.Globalization.CultureInfo.InvariantCulture)), "steps");
        content.Add(new StringContent("fast"), "phases");
        using var response = await client.PostAsync(new Uri("/v1/adapters/mine/train", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }

    [Theory]
    [InlineData("0.5", 1, 1)]
    [InlineData("0.25", 1, 3)]
    [InlineData("0.5", 3, 3)] // a training step that costs three generation steps
    public async Task WhileRequestsWaitTrainingTakesNoMoreThanItsShareOfTheTime(string share, int trainingCost, int generationStepsPerTrainingStep)
    {
        var clock = new SteppedTimestamps();
        var engine = new FakeEngine
        {
            SlowSteps = 5, FastSteps = 5, StepDelay = TimeSpan.FromMilliseconds(1),
            Clock = clock, StepCost = TimeSpan.FromMilliseconds(10), TrainStepCost = TimeSpan.FromMilliseconds(10 * trainingCost),
            GateTraining = true, // else the job could train through all its steps before the requests arrive
        };
        await using var app = new GlanceApp(engine, new Dictionary<string, string?>
        {
            ["Glance:Adapters:Path"] = _registry,
            ["Glance:Training:MaxShare"] = share,
            ["Glance:Batching:MaxBatchSize"] = "1",
        }, time: clock);
        using HttpClient client = await app.ReadyClientAsync();

        engine.CloseGate();
        string job = await TrainAsync(client, 1000);
        Task<HttpResponseMessage>[] requests = [.. Enumerable.Range(1, 3).Select(seed => client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("p", Seed: seed))))];
        await Eventually.TrueAsync(() => app.Services.GetQueueCount() + engine.StepsEntered >= 3, "the requests to arrive");
        engine.OpenGate();
        HttpResponseMessage[] responses = await Task.WhenAll(requests);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var r in responses) r.Dispose();

        // From the first generation step to the last, each training step follows at least N generation steps.
        string[] order = [.. engine.Calls.Select(c => c.Operation).Where(op => op is "step" or "train")];
        int first = Array.IndexOf(order, "step"), last = Array.LastIndexOf(order, "step");
        int sinceTraining = generationStepsPerTrainingStep;
        for (int i = first; i <= last; i++)
        {
            if (order[i] == "step")
            {
                sinceTraining++;
                continue;
            }
            Assert.True(sinceTraining >= generationStepsPerTrainingStep, $"training took slot {i} after {sinceTraining} generation steps: {string.Join(" ", order[first..(last + 1)])}");
            sinceTraining = 0;
        }
        Assert.True(order.Skip(first).Take(last - first).Contains("train"), string.Join(" ", order));
        Assert.Equal(30, order[first..(last + 1)].Count(op => op == "step"));

        // Held at its next step, the job cannot finish its remaining steps before the cancellation reaches it.
        engine.CloseGate();
        using var cancel = new HttpRequestMessage(HttpMethod.Delete, job);
        using (await client.SendAsync(cancel)) { }
        engine.OpenGate();
        await Eventually.TrueAsync(async () =>
            JsonDocument.Parse(await client.GetStringAsync(new Uri(job, UriKind.Relative))).RootElement.GetProperty("status").GetString() == "cancelled",
            "the training job to stop");
    }
}
