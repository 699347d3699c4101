using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Endpoints;

public class GenerateEndpointTests
{
    static Dictionary<string, double> ParseServerTiming(HttpResponseMessage response)
    {
        string header = string.Join(", ", response.Headers.GetValues("Server-Timing"));
        return header.Split(',', StringSplitOptions.TrimEntries).Select(entry => entry.Split(";dur=")).ToDictionary(
            parts => parts[0], parts => double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ReturnsThePngOfTheSeededImage()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a cat", Width: 48, Height: 32, Seed: 7)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("7", response.Headers.GetValues("X-Glance-Seed").Single());
        DecodedImage image = PngEncoding.Decode(await response.Content.ReadAsStreamAsync());
        DecodedImage expected = FakeEngine.Image(new GenerationSpec("a cat", null, 48, 32, 7));
        Assert.Equal(expected.Rgb, image.Rgb);
    }

    [Fact]
    public async Task ServerTimingHasAllPhases()
    {
        var engine = new FakeEngine { StepDelay = TimeSpan.FromMilliseconds(5), SlowSteps = 2, FastSteps = 3 };
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();

        long sent = Stopwatch.GetTimestamp();
        using HttpResponseMessage response = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a cat")));
        double roundTripMs = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Dictionary<string, double> timing = ParseServerTiming(response);
        Assert.Equal(["queue", "encode", "slow", "fast", "decode", "png", "total"], timing.Keys);
        // Each step sleeps at least 5 ms and the request took part in 2 slow and 3 fast steps: bounds below in milliseconds.
        Assert.True(timing["slow"] >= 10, $"slow: {timing["slow"]} ms for two steps of at least 5 ms");
        Assert.True(timing["fast"] >= 15, $"fast: {timing["fast"]} ms for three steps of at least 5 ms");
        // The server's whole time lies within the client's round trip, however slow the machine: the bound above.
        Assert.InRange(timing["total"], timing["slow"] + timing["fast"], roundTripMs);
    }

    [Fact]
    public async Task BaseModeReportsItsOnePhaseAsBase()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a cat", Mode: "base", Steps: 3)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["queue", "encode", "base", "decode", "png", "total"], ParseServerTiming(response).Keys);
        Assert.Equal(3, app.Engine.Steps.Count);
    }

    [Fact]
    public async Task AcceptJsonReturnsImageSeedAndTimings()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/generate") { Content = GlanceApp.Json(new GenerateRequest("a cat", Seed: 11)) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using HttpResponseMessage response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(11, body.GetProperty("seed").GetInt64());
        Assert.Equal("glance", body.GetProperty("mode").GetString());
        byte[] png = Convert.FromBase64String(body.GetProperty("image").GetString()!);
        Assert.Equal(FakeEngine.Image(new GenerationSpec("a cat", null, 32, 32, 11)).Rgb, PngEncoding.Decode(new MemoryStream(png)).Rgb);
        string[] stages = [.. body.GetProperty("timings").EnumerateObject().Select(p => p.Name)];
        Assert.Equal(["queue", "encode", "slow", "fast", "decode", "png", "total"], stages);
    }

    [Fact]
    public async Task OmittedSeedIsDrawnAndReported()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a cat")));

        long seed = long.Parse(response.Headers.GetValues("X-Glance-Seed").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(seed, app.Engine.Calls.Single(call => call.Operation == "start").Requests.Single().Seed);
    }
}
