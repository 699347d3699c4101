using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Engine.Imaging;
using Glance.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Glance.Api.Tests.RealEngine;

/// <summary>The service with the real TorchSharp engine (no fakes) over a tiny model folder written by the test.</summary>
public sealed class RealEngineEndpointTests : IClassFixture<TinyModelFolder>, IAsyncLifetime
{
    readonly WebApplicationFactory<Program> _factory;
    HttpClient _client = null!;

    public RealEngineEndpointTests(TinyModelFolder folder)
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
            builder.UseSetting("Glance:Model:Name", "tiny-test");
            builder.UseSetting("Glance:Model:Path", folder.Path);
            builder.UseSetting("Glance:Model:Device", "cpu");
            builder.UseSetting("Glance:RateLimit:Enabled", "false");
        });
    }

    public async Task InitializeAsync()
    {
        _client = _factory.CreateClient();
        await Eventually.ReadyAsync(_client, "the real engine to become ready", TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    static async Task<(HttpResponseMessage Response, byte[] Png)> GenerateAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GlanceModeReturnsPngWithSlowAndFastTimings()
    {
        var (response, png) = await GenerateAsync(_client, new { prompt = "a red circle", seed = 12, width = 16, height = 16 });
        using (response)
        {
            var image = PngEncoding.Decode(new MemoryStream(png));
            Assert.Equal((16, 16), (image.Width, image.Height));
            string timing = string.Join(",", response.Headers.GetValues("Server-Timing"));
            foreach (string stage in new[] { "queue", "encode", "slow", "fast", "decode", "png" })
                Assert.Contains(stage + ";dur=", timing, StringComparison.Ordinal);
            Assert.Equal("12", response.Headers.GetValues("X-Glance-Seed").Single());
        }
    }

    [Fact]
    public async Task SameSeedGivesIdenticalImagesAndOtherSeedsDiffer()
    {
        var (r1, first) = await GenerateAsync(_client, new { prompt = "a red circle", seed = 3, width = 16, height = 16 });
        var (r2, second) = await GenerateAsync(_client, new { prompt = "a red circle", seed = 3, width = 16, height = 16 });
        var (r3, other) = await GenerateAsync(_client, new { prompt = "a red circle", seed = 4, width = 16, height = 16 });
        r1.Dispose();
        r2.Dispose();
        r3.Dispose();
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task BaseModeReportsItsOnePhase()
    {
        var (response, _) = await GenerateAsync(_client, new { prompt = "a red circle", seed = 1, width = 16, height = 16, mode = "base", steps = 3 });
        using (response)
        {
            string timing = string.Join(",", response.Headers.GetValues("Server-Timing"));
            Assert.Contains("base;dur=", timing, StringComparison.Ordinal);
            Assert.DoesNotContain("slow;dur=", timing, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task JsonResponseCarriesBase64PngAndTimings()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/generate") { Content = JsonContent.Create(new { prompt = "a red circle", seed = 8, width = 16, height = 16 }) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        byte[] png = Convert.FromBase64String(json.RootElement.GetProperty("image").GetString()!);
        Assert.Equal(16, PngEncoding.Decode(new MemoryStream(png)).Width);
        Assert.Equal(8, json.RootElement.GetProperty("seed").GetInt64());
    }

    [Fact]
    public async Task OpenAiEndpointReturnsNImages()
    {
        using var response = await _client.PostAsJsonAsync(new Uri("/v1/images/generations", UriKind.Relative),
            new { model = "tiny-test", prompt = "a red circle", n = 2, size = "16x16", response_format = "b64_json", seed = 5 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var images = json.RootElement.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("b64_json").GetString()).ToArray();
        Assert.Equal(2, images.Length);
        Assert.NotEqual(images[0], images[1]);
    }
}
