using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Glance.Api.Tests.RealEngine;

/// <summary>PUT and DELETE /v1/adapters/{name} on the shipped glance-mini: admin-only, checked before anything is stored.</summary>
public sealed class AdapterUploadTests : IAsyncLifetime
{
    const string UserKey = "user-key-0123456789";
    const string AdminKey = "admin-key-0123456789";
    readonly string _registry = Path.Combine(Path.GetTempPath(), "glance-adapter-uploads-" + Guid.NewGuid().ToString("N"));
    WebApplicationFactory<Program> _factory = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_registry);
        _factory = ShippedModelApp.Over(_registry,
            ("Glance:Adapters:MaxSets", "1"),
            ("Glance:Auth:ApiKeys:0", UserKey),
            ("Glance:Auth:AdminKeys:0", AdminKey));
        _client = _factory.CreateClient();
        await Eventually.ReadyAsync(_client, "glance-mini", TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        if (Directory.Exists(_registry)) Directory.Delete(_registry, recursive: true);
    }

    static byte[] Shipped(string phase) => File.ReadAllBytes(ShippedModelApp.Adapter(phase));

    async Task<HttpResponseMessage> PutAsync(string name, string key, params (string Part, byte[] Bytes)[] files)
    {
        using var content = new MultipartFormDataContent();
        foreach (var (part, bytes) in files)
        {
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(file, part, part + ".safetensors");
        }
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/adapters/{name}") { Content = content };
        request.Headers.Add("X-Api-Key", key);
        return await _client.SendAsync(request);
    }

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    IEnumerable<string> Stored() => Directory.EnumerateFileSystemEntries(_registry).Select(Path.GetFileName)!;

    [Fact]
    public async Task AnAdminUploadsASetThatRequestsCanUseAndDeletesIt()
    {
        using (var refused = await PutAsync("swapped", UserKey, ("slow", Shipped("fast")), ("fast", Shipped("slow"))))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Empty(Stored());

        using var created = await PutAsync("swapped", AdminKey, ("slow", Shipped("fast")), ("fast", Shipped("slow")));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/v1/adapters/swapped", created.Headers.Location?.OriginalString);
        var set = await ProblemAsync(created);
        Assert.Equal(["slow", "fast"], set.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("phase").GetString()));

        using var generate = new HttpRequestMessage(HttpMethod.Post, "/generate") { Content = JsonContent.Create(new { prompt = "a red circle", seed = 3, adapters = "swapped" }) };
        generate.Headers.Add("X-Api-Key", UserKey);
        using (var image = await _client.SendAsync(generate))
        {
            Assert.Equal(HttpStatusCode.OK, image.StatusCode);
            Assert.Equal("swapped", image.Headers.GetValues("X-Glance-Adapters").Single());
        }

        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/v1/adapters/swapped");
        delete.Headers.Add("X-Api-Key", AdminKey);
        using (var deleted = await _client.SendAsync(delete)) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(Stored());
        using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/adapters/swapped");
        get.Headers.Add("X-Api-Key", UserKey);
        using (var gone = await _client.SendAsync(get)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task BadFilesAreRefusedWith422NamingTheProblemAndNothingIsStored()
    {
        byte[] good = Shipped("slow");
        byte[] truncated = good[..(good.Length - 100)];
        byte[] trailing = [.. good, 1, 2, 3];
        byte[] hugeHeader = [.. BitConverter.GetBytes((ulong)1 << 40), .. new byte[16]];
        byte[] unknownKeys = RenamedInHeader(good, "single_transformer_blocks", "singel_transformer_blocks");

        foreach (var (bytes, expected) in new[] { (truncated, "data section"), (trailing, "after its last tensor"), (hugeHeader, "header"), (unknownKeys, "singel_transformer_blocks") })
        {
            using var response = await PutAsync("bad", AdminKey, ("slow", bytes));
            var problem = await ProblemAsync(response);
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{expected}: {response.StatusCode} {problem}");
            Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Empty(Stored());
    }

    /// <summary>The file with every occurrence of one ASCII key fragment in its header replaced by another of the same length.</summary>
    static byte[] RenamedInHeader(byte[] file, string from, string to)
    {
        byte[] copy = [.. file];
        int headerEnd = 8 + (int)BitConverter.ToUInt64(file, 0);
        byte[] find = System.Text.Encoding.ASCII.GetBytes(from), replace = System.Text.Encoding.ASCII.GetBytes(to);
        for (int i = 8; i + find.Length <= headerEnd; i++)
        {
            if (copy.AsSpan(i, find.Length).SequenceEqual(find)) replace.CopyTo(copy, i);
        }
        return copy;
    }

    [Theory]
    [InlineData("default")]
    [InlineData("Upper")]
    [InlineData("-dash")]
    [InlineData("a.b")]
    public async Task NamesThatCannotNameASetAreA400(string name)
    {
        using var response = await PutAsync(name, AdminKey, ("slow", Shipped("slow")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(Stored());
    }

    [Fact]
    public async Task AnUploadBeyondTheSetLimitIsA409WhileReplacingTheSetInPlaceIsAllowed()
    {
        using (var first = await PutAsync("one", AdminKey, ("slow", Shipped("slow")))) Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var second = await PutAsync("two", AdminKey, ("slow", Shipped("slow")));
        var problem = await ProblemAsync(second);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.EndsWith("/adapter-limit", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Contains("MaxSets", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(["one"], Stored());

        using var replaced = await PutAsync("one", AdminKey, ("slow", Shipped("fast")));
        Assert.Equal(HttpStatusCode.Created, replaced.StatusCode);
    }

    [Fact]
    public async Task AnUploadThatIsNotMultipartIsA415()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/adapters/json") { Content = JsonContent.Create(new { slow = "x" }) };
        request.Headers.Add("X-Api-Key", AdminKey);
        using var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
