using System.Net;
using System.Text.Json;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.OpenAi;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Endpoints;

public class OpenAiImagesEndpointTests
{
    [Fact]
    public async Task ReturnsNImagesWithConsecutiveSeedsInOneBatch()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/v1/images/generations",
            GlanceApp.Json(new ImageGenerationRequest("a fox", N: 3, Size: "64x48", ResponseFormat: "b64_json", Seed: 100)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("created").GetInt64() > 1_700_000_000);
        JsonElement[] data = [.. body.GetProperty("data").EnumerateArray()];
        Assert.Equal(3, data.Length);
        for (int i = 0; i < 3; i++)
        {
            byte[] png = Convert.FromBase64String(data[i].GetProperty("b64_json").GetString()!);
            Assert.Equal(FakeEngine.Image(new GenerationSpec("a fox", null, 64, 48, 100 + i)).Rgb, PngEncoding.Decode(new MemoryStream(png)).Rgb);
        }
        Assert.All(app.Engine.Steps, step => Assert.Equal(3, step.Requests.Count));
    }

    [Fact]
    public async Task UrlResponseFormatIsRefusedWithAProblem()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/v1/images/generations",
            GlanceApp.Json(new ImageGenerationRequest("a fox", ResponseFormat: "url")));

        JsonElement problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "unsupported-response-format");
        Assert.Contains("b64_json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(app.Engine.Steps);
    }

    [Theory]
    [InlineData("n", """{"prompt":"a fox","n":0}""")]
    [InlineData("n", """{"prompt":"a fox","n":5}""")]
    [InlineData("size", """{"prompt":"a fox","size":"big"}""")]
    [InlineData("size", """{"prompt":"a fox","size":"40x40"}""")]
    [InlineData("response_format", """{"prompt":"a fox","response_format":"png"}""")]
    [InlineData("negative_prompt", """{"prompt":"a fox","negative_prompt":"LONG"}""")]
    [InlineData("seed", """{"prompt":"a fox","n":2,"seed":9007199254740991}""")]
    [InlineData("prompt", """{"n":1}""")]
    public async Task InvalidFieldsAreNamed(string field, string json)
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/v1/images/generations",
            new StringContent(json.Replace("LONG", new string('x', 201), StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json"));

        JsonElement problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"No error for '{field}' in {problem}");
    }
}
