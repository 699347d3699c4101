using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Glance.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Glance.Api.Tests.RealEngine;

/// <summary>
/// Adapter sets from a registry folder shared by replicas, on the shipped glance-mini: the "swapped" set holds its Fast
/// adapter as Slow and its Slow one as Fast, so its images differ from the default set's.
/// </summary>
public sealed class AdapterSetEndpointTests : IDisposable
{
    readonly string _registry = Path.Combine(Path.GetTempPath(), "glance-adapter-registry-" + Guid.NewGuid().ToString("N"));

    public AdapterSetEndpointTests() => Directory.CreateDirectory(_registry);

    public void Dispose()
    {
        if (Directory.Exists(_registry)) Directory.Delete(_registry, recursive: true);
    }

    /// <summary>Writes a set the way an operator or another replica would: into a dot-folder, then renamed into place.</summary>
    void AddSet(string name, string? slowFrom, string? fastFrom)
    {
        string staging = Path.Combine(_registry, "." + name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        if (slowFrom is not null) File.Copy(slowFrom, Path.Combine(staging, "slow.safetensors"));
        if (fastFrom is not null) File.Copy(fastFrom, Path.Combine(staging, "fast.safetensors"));
        Directory.Move(staging, Path.Combine(_registry, name));
    }

    WebApplicationFactory<Program> Replica() => ShippedModelApp.Over(_registry, ("Glance:Adapters:RescanSeconds", "1"));

    static async Task<JsonElement> SetsAsync(HttpClient client) =>
        JsonDocument.Parse(await client.GetStringAsync(new Uri("/v1/adapters", UriKind.Relative))).RootElement;

    static async Task WaitForSetAsync(HttpClient client, string name) =>
        await Eventually.TrueAsync(async () => (await SetsAsync(client)).GetProperty("data").EnumerateArray().Any(s => s.GetProperty("name").GetString() == name),
            $"set '{name}' to be listed", TimeSpan.FromSeconds(30));

    static async Task<(HttpStatusCode Status, byte[] Body, string? Adapters)> GenerateAsync(HttpClient client, string? adapters)
    {
        using var response = await client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), new { prompt = "a red circle", seed = 7, adapters });
        string? header = response.Headers.TryGetValues("X-Glance-Adapters", out var values) ? values.Single() : null;
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), header);
    }

    [Fact]
    public async Task ASetAddedToTheSharedFolderIsServedByEveryReplicaWithoutRestart()
    {
        await using var first = Replica();
        await using var second = Replica();
        using var a = first.CreateClient();
        using var b = second.CreateClient();
        await Eventually.ReadyAsync(a, "replica 1", TimeSpan.FromSeconds(90));
        await Eventually.ReadyAsync(b, "replica 2", TimeSpan.FromSeconds(90));
        var defaults = await GenerateAsync(a, null);
        Assert.Equal("default", defaults.Adapters);

        AddSet("swapped", ShippedModelApp.Adapter("fast"), ShippedModelApp.Adapter("slow"));
        await WaitForSetAsync(a, "swapped");
        await WaitForSetAsync(b, "swapped");

        var one = await GenerateAsync(a, "swapped");
        var two = await GenerateAsync(b, "swapped");
        Assert.Equal((HttpStatusCode.OK, "swapped"), (one.Status, one.Adapters));
        Assert.Equal(one.Body, two.Body);
        Assert.NotEqual(defaults.Body, one.Body);
        var listed = (await SetsAsync(a)).GetProperty("data").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "swapped");
        Assert.Equal(["slow", "fast"], listed.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("phase").GetString()));
        Assert.Equal("registry", listed.GetProperty("source").GetString());

        Directory.Delete(Path.Combine(_registry, "swapped"), recursive: true);
        await Eventually.TrueAsync(async () => (await GenerateAsync(a, "swapped")).Status == HttpStatusCode.NotFound,
            "the removed set to be gone", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task AMissingSetIsA404NamingItAndABadNameA400()
    {
        await using var factory = Replica();
        using var client = factory.CreateClient();
        await Eventually.ReadyAsync(client, "glance-mini", TimeSpan.FromSeconds(90));

        using var missing = await client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), new { prompt = "a red circle", adapters = "nowhere" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var problem = JsonDocument.Parse(await missing.Content.ReadAsStringAsync());
        Assert.EndsWith("/adapter-set-not-found", problem.RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Contains("'nowhere'", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var traversal = await client.PostAsJsonAsync(new Uri("/v1/images/generations", UriKind.Relative), new { prompt = "a red circle", adapters = "../etc" });
        Assert.Equal(HttpStatusCode.BadRequest, traversal.StatusCode);
        using var get = await client.GetAsync(new Uri("/v1/adapters/nowhere", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task ASetWhoseFileMatchesNoModuleIsReportedAndNotServed()
    {
        string bad = Path.Combine(_registry, "not-lora.safetensors");
        using (var scope = TorchSharp.torch.NewDisposeScope())
        {
            Glance.Engine.Checkpoints.SafetensorsFile.Write(bad,
            [
                new("transformer.nowhere.lora_A.weight", TorchSharp.torch.zeros(2, 8)),
                new("transformer.nowhere.lora_B.weight", TorchSharp.torch.zeros(8, 2)),
            ]);
        }
        AddSet("broken", bad, null);
        await using var factory = Replica();
        using var client = factory.CreateClient();
        await Eventually.ReadyAsync(client, "glance-mini", TimeSpan.FromSeconds(90));

        await Eventually.TrueAsync(async () => (await SetsAsync(client)).GetProperty("failures").TryGetProperty("broken", out _),
            "the broken set to be reported", TimeSpan.FromSeconds(30));
        var reason = (await SetsAsync(client)).GetProperty("failures").GetProperty("broken").GetString();
        Assert.Contains("transformer.nowhere.lora_A.weight", reason, StringComparison.Ordinal);
        var response = await GenerateAsync(client, "broken");
        Assert.Equal(HttpStatusCode.NotFound, response.Status);
    }
}
