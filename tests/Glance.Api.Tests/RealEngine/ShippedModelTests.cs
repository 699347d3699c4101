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

    [Fact]
    public async Task TheCatalogDescribesGlanceMiniWithPromptsOfItsWorld()
    {
        using var response = await _client.GetAsync(new Uri("/v1/models/glance-mini", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var model = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("glance-mini", model.GetProperty("family").GetString());
        Assert.Equal("true-cfg", model.GetProperty("guidance").GetProperty("kind").GetString());
        Assert.Equal(10, model.GetProperty("steps").GetProperty("glance").GetInt32());
        Assert.Equal("""[{"encoder":"t5","tokens":16}]""", model.GetProperty("prompt").GetProperty("token_limits").GetRawText());
        string[] examples = [.. model.GetProperty("example_prompts").EnumerateArray().Select(e => e.GetString()!)];
        Assert.Equal(WorldExamples.Prompts(8), examples);
        Assert.All(examples, prompt => Assert.All(prompt.Split(' '), word => Assert.Contains(word, SceneCaption.Vocabulary)));
    }
}
