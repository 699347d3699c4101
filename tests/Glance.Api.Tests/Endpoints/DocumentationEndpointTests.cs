using System.Net;
using System.Text.Json;
using Glance.Api.Tests.Infrastructure;

namespace Glance.Api.Tests.Endpoints;

public class DocumentationEndpointTests
{
    [Fact]
    public async Task OpenApiDocumentListsEveryEndpointWithExamples()
    {
        await using var app = new GlanceApp();
        using HttpClient client = app.CreateClient();

        using HttpResponseMessage response = await client.GetAsync("/swagger/v1/swagger.json");
        JsonElement document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string[] paths = [.. document.GetProperty("paths").EnumerateObject().Select(p => p.Name)];
        foreach (string path in new[] { "/generate", "/v1/images/generations", "/jobs", "/jobs/{id}", "/jobs/{id}/image", "/jobs/{id}/events", "/healthz", "/readyz" })
            Assert.Contains(path, paths);
        JsonElement generated = document.GetProperty("paths").GetProperty("/generate").GetProperty("post").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Equal("binary", generated.GetProperty("image/png").GetProperty("schema").GetProperty("format").GetString());
        Assert.True(generated.TryGetProperty("application/json", out _));
        JsonElement schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.Equal("glance", schemas.GetProperty("GenerateRequest").GetProperty("example").GetProperty("mode").GetString());
        Assert.Equal("b64_json", schemas.GetProperty("ImageGenerationRequest").GetProperty("example").GetProperty("response_format").GetString());
    }

    [Fact]
    public async Task TheAdapterFormsAreDescribedFieldByFieldSoSwaggerUiCanFillThem()
    {
        await using var app = new GlanceApp();
        using HttpClient client = app.CreateClient();

        JsonElement document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative))).RootElement;

        string FormOf(string path, string method) => document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody")
            .GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema").GetProperty("$ref").GetString()!.Split('/')[^1];
        JsonElement Fields(string schema) => document.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties");
        JsonElement train = Fields(FormOf("/v1/adapters/{name}/train", "post"));
        Assert.Equal(["image", "caption", "phases", "steps", "rank", "learningRate", "targets", "seed"], train.EnumerateObject().Select(p => p.Name));
        Assert.Equal("binary", train.GetProperty("image").GetProperty("format").GetString());
        JsonElement upload = Fields(FormOf("/v1/adapters/{name}", "put"));
        Assert.Equal(["slow", "fast"], upload.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task SwaggerUiAndPlaygroundAreServed()
    {
        await using var app = new GlanceApp();
        using HttpClient client = app.CreateClient();

        using HttpResponseMessage swagger = await client.GetAsync("/swagger/index.html");
        using HttpResponseMessage playground = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, swagger.StatusCode);
        Assert.Equal("text/html", playground.Content.Headers.ContentType?.MediaType);
        string page = await playground.Content.ReadAsStringAsync();
        Assert.Contains("id=\"generate\"", page, StringComparison.Ordinal);
        Assert.Contains("fetch(\"/generate\"", page, StringComparison.Ordinal);
    }
}
