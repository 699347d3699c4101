using System.Net;
using System.Net.Http.Json;
using Glance.Api.Tests.Infrastructure;
using Glance.Engine.Imaging;
using Glance.Mini.World;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Glance.Api.Tests.RealEngine;

/// <summary>The service as shipped: default configuration, the embedded glance-mini model and its adapters.</summary>
public sealed class ShippedModelTests : IAsyncLifetime
{
    readonly WebApplicationFactory<Program> _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
    {
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.UseSetting("Glance:Model:Device", "cpu");
    });
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _client = _factory.CreateClient();
        await Eventually.ReadyAsync(_client, "glance-mini to become ready", TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task DefaultModelDrawsTheColourAndPositionItIsAskedFor()
    {
        var scene = new SceneSpec(SceneShape.Circle, SceneColour.Green, ScenePosition.Right, SceneSize.Large, SceneBackground.Black);
        using var response = await _client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), new { prompt = scene.Caption, seed = 1 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var image = PngEncoding.Decode(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal((64, 64), (image.Width, image.Height));
        var detected = SceneDetector.Detect(image);
        Assert.Equal(SceneColour.Green, detected.Colour);
        Assert.Equal(ScenePosition.Right, detected.Position);
        Assert.Equal(SceneBackground.Black, detected.Background);
    }
}
