using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Api.Tests.Infrastructure;
using Glance.Engine.Imaging;
using Glance.Engine.Pipeline;
using Glance.Engine.Serving;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Glance.Api.Tests.RealEngine;

/// <summary>POST /v1/adapters/{name}/train on the shipped glance-mini: a set from one image, as a job, then served.</summary>
public sealed class AdapterTrainingEndpointTests : IAsyncLifetime
{
    const string UserKey = "user-key-0123456789";
    const string AdminKey = "admin-key-0123456789";
    readonly string _registry = Path.Combine(Path.GetTempPath(), "glance-adapter-training-" + Guid.NewGuid().ToString("N"));
    WebApplicationFactory<Program> _factory = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_registry);
        _factory = ShippedModelApp.Over(_registry,
            ("Glance:Adapters:RescanSeconds", "1"),
            ("Glance:Auth:ApiKeys:0", UserKey),
            ("Glance:Auth:AdminKeys:0", AdminKey),
            ("Glance:Training:MaxImagePixels", "70000"),
            ("Glance:Training:MaxImageMiB", "1"));
        _client = _factory.CreateClient();
        _client.DefaultRequestHeaders.Add("X-Api-Key", UserKey);
        await Eventually.ReadyAsync(_client, "glance-mini", TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        if (Directory.Exists(_registry)) Directory.Delete(_registry, recursive: true);
    }

    static byte[] TrainingPng() =>
        File.ReadAllBytes(Path.Combine(ModelLocator.Resolve(ModelLocator.DefaultModel), "lora-pair", "train_000000.png"));

    async Task<HttpResponseMessage> TrainAsync(string name, string key, byte[]? image, string mediaType = "image/png", params (string Field, string Value)[] fields)
    {
        using var content = new MultipartFormDataContent();
        if (image is not null)
        {
            var file = new ByteArrayContent(image);
            file.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            content.Add(file, "image", "pair.png");
        }
        foreach (var (field, value) in fields) content.Add(new StringContent(value), field);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/adapters/{name}/train") { Content = content };
        request.Headers.Remove("X-Api-Key");
        request.Headers.Add("X-Api-Key", key);
        return await _client.SendAsync(request);
    }

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    async Task<JsonElement> JobAsync(string location) =>
        JsonDocument.Parse(await _client.GetStringAsync(new Uri(location, UriKind.Relative))).RootElement;

    async Task<JsonElement> FinishedAsync(string location, TimeSpan timeout)
    {
        JsonElement job = default;
        await Eventually.TrueAsync(async () =>
        {
            job = await JobAsync(location);
            return job.GetProperty("status").GetString() is "completed" or "failed" or "cancelled";
        }, "the training job to finish", timeout);
        return job;
    }

    IEnumerable<string> Stored() => Directory.EnumerateFileSystemEntries(_registry).Select(Path.GetFileName)!;

    [Fact]
    public async Task ASetTrainedFromOneImageIsStoredServedAndReportedStepByStep()
    {
        using var accepted = await TrainAsync("circle", AdminKey, TrainingPng(), "image/png", ("caption", "a red circle on a gray background"), ("steps", "3"), ("rank", "4"));
        var job = await JsonAsync(accepted);
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, job.ToString());
        string location = accepted.Headers.Location!.OriginalString;
        Assert.Equal("training", job.GetProperty("kind").GetString());
        var training = job.GetProperty("training");
        Assert.Equal("circle", training.GetProperty("adapterSet").GetString());
        Assert.Equal((3, 4, 16.0, "attention", 64, 64), (training.GetProperty("steps").GetInt32(), training.GetProperty("rank").GetInt32(),
            training.GetProperty("alpha").GetDouble(), training.GetProperty("targets").GetString(), training.GetProperty("width").GetInt32(), training.GetProperty("height").GetInt32()));

        var done = await FinishedAsync(location, TimeSpan.FromSeconds(120));
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal((6, 6, "fast"), (done.GetProperty("step").GetInt32(), done.GetProperty("totalSteps").GetInt32(), done.GetProperty("phase").GetString()));
        Assert.True(double.IsFinite(done.GetProperty("training").GetProperty("loss").GetDouble()));

        string events = await _client.GetStringAsync(new Uri(location + "/events", UriKind.Relative));
        Assert.Equal(6, events.Split('\n').Count(line => line == "event: step"));
        Assert.Contains("\"loss\":", events, StringComparison.Ordinal);
        Assert.Contains("\"etaSeconds\":", events, StringComparison.Ordinal);
        using (var image = await _client.GetAsync(new Uri(location + "/image", UriKind.Relative)))
            Assert.Equal(HttpStatusCode.Conflict, image.StatusCode);

        var set = JsonDocument.Parse(await _client.GetStringAsync(new Uri("/v1/adapters/circle", UriKind.Relative))).RootElement;
        Assert.Equal(["slow", "fast"], set.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("phase").GetString()));
        Assert.All(set.GetProperty("phases").EnumerateArray(), p => Assert.Equal(4, p.GetProperty("ranks")[0].GetInt32()));
        Assert.Equal(["circle"], Stored());
        Assert.True(File.Exists(Path.Combine(_registry, "circle", "slow.safetensors")) && File.Exists(Path.Combine(_registry, "circle", "fast.safetensors")));

        using var generated = await _client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), new { prompt = "a red circle", seed = 3, adapters = "circle" });
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        Assert.Equal("circle", generated.Headers.GetValues("X-Glance-Adapters").Single());
    }

    [Fact]
    public async Task GenerationGoesOnWhileASetTrainsAndACancelledJobStoresNothing()
    {
        using var accepted = await TrainAsync("long", AdminKey, TrainingPng(), "image/png", ("caption", "a red circle"), ("steps", "1000"), ("phases", "fast"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        string location = accepted.Headers.Location!.OriginalString;
        await Eventually.TrueAsync(async () => (await JobAsync(location)).GetProperty("step").GetInt32() > 0, "the first training step", TimeSpan.FromSeconds(60));

        using (var busy = await TrainAsync("long", AdminKey, TrainingPng(), "image/png", ("caption", "again")))
        {
            Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
            Assert.EndsWith("adapter-busy", (await JsonAsync(busy)).GetProperty("type").GetString(), StringComparison.Ordinal);
        }
        using (var generated = await _client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), new { prompt = "a blue square", seed = 5 }))
            Assert.Equal(HttpStatusCode.OK, generated.StatusCode);

        using var cancel = new HttpRequestMessage(HttpMethod.Delete, location);
        using (var cancelled = await _client.SendAsync(cancel)) Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        var done = await FinishedAsync(location, TimeSpan.FromSeconds(60));
        Assert.Equal("cancelled", done.GetProperty("status").GetString());
        Assert.True(done.GetProperty("step").GetInt32() < 1000);
        Assert.Empty(Stored());
        using (var missing = await _client.GetAsync(new Uri("/v1/adapters/long", UriKind.Relative))) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task OnlyAdminKeysTrainAndBadRequestsAreRefusedNamingTheProblem()
    {
        byte[] png = TrainingPng();
        byte[] gif = [.. "GIF89a"u8, 1, 0, 1, 0, 0, 0, 0, 44, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 68, 1, 0, 59];
        byte[] truncatedPng = png[..200];
        byte[] large = PngEncoding.Encode(new DecodedImage(300, 300, new byte[300 * 300 * 3]));
        (string Field, string Value) caption = ("caption", "a red circle");

        async Task Expect(HttpStatusCode status, string typeEnd, string detailPart, HttpResponseMessage response)
        {
            using (response)
            {
                var problem = await JsonAsync(response);
                Assert.True(response.StatusCode == status, $"{typeEnd}: {response.StatusCode} {problem}");
                Assert.EndsWith(typeEnd, problem.GetProperty("type").GetString(), StringComparison.Ordinal);
                Assert.Contains(detailPart, problem.ToString(), StringComparison.Ordinal);
            }
        }

        await Expect(HttpStatusCode.Forbidden, "forbidden", "AdminKeys", await TrainAsync("mine", UserKey, png, "image/png", caption));
        // Above the request limit (64 KiB) but within the image limit's: accepted as far as the image check.
        await Expect(HttpStatusCode.UnprocessableEntity, "invalid-image", "could not be", await TrainAsync("mine", AdminKey, [.. png[..200], .. new byte[200_000]], "image/png", caption));
        await Expect(HttpStatusCode.RequestEntityTooLarge, "payload-too-large", "bytes", await TrainAsync("mine", AdminKey, new byte[3 << 20], "image/png", caption));
        await Expect(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type", "PNG or a JPEG", await TrainAsync("mine", AdminKey, gif, "image/gif", caption));
        await Expect(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type", "PNG or a JPEG", await TrainAsync("mine", AdminKey, "not an image"u8.ToArray(), "image/png", caption));
        await Expect(HttpStatusCode.UnprocessableEntity, "invalid-image", "decoded", await TrainAsync("mine", AdminKey, truncatedPng, "image/png", caption));
        await Expect(HttpStatusCode.UnprocessableEntity, "invalid-image", "300x300", await TrainAsync("mine", AdminKey, large, "image/png", caption));
        await Expect(HttpStatusCode.BadRequest, "validation", "caption", await TrainAsync("mine", AdminKey, png));
        await Expect(HttpStatusCode.BadRequest, "validation", "image", await TrainAsync("mine", AdminKey, null, "image/png", caption));
        await Expect(HttpStatusCode.BadRequest, "validation", "phases", await TrainAsync("mine", AdminKey, png, "image/png", caption, ("phases", "slow,medium")));
        await Expect(HttpStatusCode.BadRequest, "validation", "rank", await TrainAsync("mine", AdminKey, png, "image/png", caption, ("rank", "0")));
        await Expect(HttpStatusCode.BadRequest, "validation", "learningRate", await TrainAsync("mine", AdminKey, png, "image/png", caption, ("learningRate", "fast")));
        await Expect(HttpStatusCode.BadRequest, "validation", "targets", await TrainAsync("mine", AdminKey, png, "image/png", caption, ("targets", "everything")));
        await Expect(HttpStatusCode.BadRequest, "validation", "name", await TrainAsync(".hidden", AdminKey, png, "image/png", caption));
        await Expect(HttpStatusCode.BadRequest, "validation", "configured set", await TrainAsync(AdapterSets.Default, AdminKey, png, "image/png", caption));

        using var json = new HttpRequestMessage(HttpMethod.Post, "/v1/adapters/mine/train") { Content = JsonContent.Create(new { caption = "a red circle" }) };
        json.Headers.Remove("X-Api-Key");
        json.Headers.Add("X-Api-Key", AdminKey);
        await Expect(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type", "415", await _client.SendAsync(json));
        Assert.Empty(Stored());
    }
}
