using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts;
using Glance.Engine.Imaging;
using Glance.Engine.Tests.Snapshots;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Glance.Api.Tests.RealEngine;

/// <summary>A tiny FLUX.1-dev snapshot in the Hugging Face layout, written once per test class.</summary>
public sealed class TinyFluxSnapshot : IDisposable
{
    public TinyFluxSnapshot()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Dev);
        builder.Write(Path);
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "glance-api-flux-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}

/// <summary>The service pointed at an unmodified (tiny) FLUX.1 snapshot folder, with the real engine.</summary>
public sealed class FluxSnapshotEndpointTests(TinyFluxSnapshot snapshot) : IClassFixture<TinyFluxSnapshot>
{
    static WebApplicationFactory<Program> Service(string path) => new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
    {
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.UseSetting("Glance:Model:Name", "flux-test");
        builder.UseSetting("Glance:Model:Path", path);
        builder.UseSetting("Glance:Model:Device", "cpu");
        builder.UseSetting("Glance:RateLimit:Enabled", "false");
    });

    [Fact]
    public async Task GeneratesPngsOfTheRequestedSizeInGlanceAndBaseModeAndNotesTheMissingAdapters()
    {
        await using var factory = Service(snapshot.Path);
        using var client = factory.CreateClient();
        await Eventually.ReadyAsync(client, "the FLUX.1 snapshot engine to become ready", TimeSpan.FromSeconds(120));

        ServiceStatus? status = await client.GetFromJsonAsync<ServiceStatus>("/readyz");
        Assert.Contains("without the slow and fast adapters", status!.Note, StringComparison.Ordinal);

        foreach (var body in new object[]
        {
            new { prompt = "a lighthouse on a cliff at dawn", seed = 3, width = 16, height = 24 },
            new { prompt = "a lighthouse on a cliff at dawn", seed = 3, width = 24, height = 16, mode = "base", steps = 2, guidance = 4.0 },
        })
        {
            using var response = await client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var image = PngEncoding.Decode(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
            var requested = JsonSerializer.SerializeToElement(body);
            Assert.Equal((requested.GetProperty("width").GetInt32(), requested.GetProperty("height").GetInt32()), (image.Width, image.Height));
            Assert.False(response.Headers.Contains("X-Glance-Prompt-Truncated"));
        }
    }

    [Fact]
    public async Task APromptLongerThanClipKeepsIsReportedInTheHeaderTheJsonAnswerAndTheJob()
    {
        await using var factory = Service(snapshot.Path);
        using var client = factory.CreateClient();
        await Eventually.ReadyAsync(client, "the FLUX.1 snapshot engine to become ready", TimeSpan.FromSeconds(120));
        string prompt = string.Join(", ", Enumerable.Repeat("a lighthouse on a cliff", 20));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/generate") { Content = JsonContent.Create(new { prompt, seed = 1, width = 16, height = 16, mode = "base", steps = 1 }) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("prompt clip 77/", response.Headers.GetValues("X-Glance-Prompt-Truncated").Single(), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var cut = json.RootElement.GetProperty("promptTruncated").EnumerateArray().Single();
        Assert.Equal("clip", cut.GetProperty("encoder").GetString());
        Assert.Equal(77, cut.GetProperty("kept").GetInt32());
        Assert.True(cut.GetProperty("tokens").GetInt32() > 77);

        using var submitted = await client.PostAsJsonAsync(new Uri("/jobs", UriKind.Relative), new { prompt, seed = 1, width = 16, height = 16, mode = "base", steps = 1 });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var job = JsonDocument.Parse(await submitted.Content.ReadAsStringAsync()).RootElement;
        var location = new Uri($"/jobs/{job.GetProperty("id").GetString()}", UriKind.Relative);
        JsonElement finished = default;
        await Eventually.TrueAsync(async () =>
        {
            finished = JsonDocument.Parse(await client.GetStringAsync(location)).RootElement;
            return finished.GetProperty("status").GetString() == "completed";
        }, "the job to complete", TimeSpan.FromSeconds(60));
        var jobCut = finished.GetProperty("promptTruncated").EnumerateArray().Single();
        Assert.Equal(("clip", 77), (jobCut.GetProperty("encoder").GetString(), jobCut.GetProperty("kept").GetInt32()));
    }

    [Fact]
    public async Task ASnapshotWithAMissingShardKeepsReadyzAt503NamingTheFile()
    {
        string broken = Path.Combine(Path.GetTempPath(), "glance-api-flux-broken-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var builder = FluxSnapshotBuilder.Create(FluxVariant.Schnell)) builder.Write(broken);
            File.Delete(Path.Combine(broken, "transformer", "diffusion_pytorch_model-00003-of-00003.safetensors"));
            await using var factory = Service(broken);
            using var client = factory.CreateClient();

            string reason = await Eventually.FaultedAsync(client, TimeSpan.FromSeconds(60));

            Assert.Contains("diffusion_pytorch_model-00003-of-00003.safetensors", reason, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(broken)) Directory.Delete(broken, recursive: true);
        }
    }
}
