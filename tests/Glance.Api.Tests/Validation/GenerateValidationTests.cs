using System.Net;
using System.Text;
using System.Text.Json;
using Glance.Api.Tests.Infrastructure;

namespace Glance.Api.Tests.Validation;

public class GenerateValidationTests
{
    // The fake engine accepts sizes 32..256 in multiples of 16, guidance up to 20, 1..50 base steps, prompts up to 200 characters.
    [Theory]
    [InlineData("prompt", """{}""", "required")]
    [InlineData("prompt", """{"prompt":"   "}""", "required")]
    [InlineData("prompt", """{"prompt":"LONG"}""", "at most 200")]
    [InlineData("negativePrompt", """{"prompt":"a","negativePrompt":"LONG"}""", "at most 200")]
    [InlineData("width", """{"prompt":"a","width":40}""", "multiple of 16 between 32 and 256")]
    [InlineData("width", """{"prompt":"a","width":16}""", "multiple of 16 between 32 and 256")]
    [InlineData("height", """{"prompt":"a","height":272}""", "multiple of 16 between 32 and 256")]
    [InlineData("seed", """{"prompt":"a","seed":-1}""", "between 0 and")]
    [InlineData("mode", """{"prompt":"a","mode":"turbo"}""", "glance, base")]
    [InlineData("steps", """{"prompt":"a","steps":4}""", "applies to mode 'base' only")]
    [InlineData("steps", """{"prompt":"a","mode":"base","steps":0}""", "between 1 and 50")]
    [InlineData("steps", """{"prompt":"a","mode":"base","steps":51}""", "between 1 and 50")]
    [InlineData("guidance", """{"prompt":"a","guidance":-0.5}""", "between 0 and 20")]
    [InlineData("guidance", """{"prompt":"a","guidance":20.5}""", "between 0 and 20")]
    public async Task InvalidFieldIsNamedWithItsBounds(string field, string json, string bounds)
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/generate",
            new StringContent(json.Replace("LONG", new string('x', 201), StringComparison.Ordinal), Encoding.UTF8, "application/json"));

        JsonElement problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        string[] messages = [.. problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!)];
        Assert.Contains(messages, message => message.Contains(bounds, StringComparison.Ordinal));
        Assert.Empty(app.Engine.Steps);
    }

    [Fact]
    public async Task EveryInvalidFieldIsReportedAtOnce()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/generate",
            new StringContent("""{"width":17,"height":17,"guidance":99}""", Encoding.UTF8, "application/json"));

        JsonElement problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        Assert.Equal(["guidance", "height", "prompt", "width"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task MalformedJsonIs400()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/generate", new StringContent("""{"prompt": "a""", Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
    }

    [Fact]
    public async Task WrongFieldTypeIs400()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/generate", new StringContent("""{"prompt":"a","width":"wide"}""", Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "malformed-request");
    }

    [Fact]
    public async Task WrongContentTypeIs415()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/generate", new StringContent("prompt=a", Encoding.UTF8, "text/plain"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task OversizedBodyIs413()
    {
        await using var app = new GlanceApp(settings: new Dictionary<string, string?> { ["Glance:Requests:MaxBodyBytes"] = "1024" });
        using HttpClient client = await app.ReadyClientAsync();
        string json = JsonSerializer.Serialize(new { prompt = new string('x', 2000) });

        using HttpResponseMessage response = await client.PostAsync("/generate", new StringContent(json, Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task UnknownRouteIs404Problem()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.GetAsync("/no/such/thing");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task WrongMethodIs405Problem()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.GetAsync("/generate");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
    }
}
