using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Glance.Api.Tests.Endpoints;
using Glance.Api.Tests.Infrastructure;

namespace Glance.Api.Tests.RealEngine;

/// <summary>
/// Glance:Adapters:MaxResidentMiB on the shipped glance-mini in float32, whose Slow and Fast adapters take 480 KiB each:
/// 1 MiB holds one set, so a second set waits in host memory until a request uses it, and then the first one does.
/// Alone, as it reads /metrics (see <see cref="MetricsAlone"/>).
/// </summary>
[Collection(MetricsAlone.Name)]
public sealed partial class AdapterResidencyEndpointTests : IDisposable
{
    readonly string _registry = Path.Combine(Path.GetTempPath(), "glance-adapter-residency-" + Guid.NewGuid().ToString("N"));

    public AdapterResidencyEndpointTests() => Directory.CreateDirectory(_registry);

    public void Dispose()
    {
        if (Directory.Exists(_registry)) Directory.Delete(_registry, recursive: true);
    }

    [GeneratedRegex(@"^glance_adapter_(resident_bytes|evictions_total)(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();

    static async Task<Dictionary<string, long>> ScrapeAsync(HttpClient client) =>
        SeriesLine().Matches(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
            .ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));

    static async Task<Dictionary<string, bool>> ResidentAsync(HttpClient client)
    {
        using var sets = JsonDocument.Parse(await client.GetStringAsync(new Uri("/v1/adapters", UriKind.Relative)));
        return sets.RootElement.GetProperty("data").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("resident").GetBoolean());
    }

    [Fact]
    public async Task TheListShowsWhichSetsAreOnTheDeviceAndMetricsCountTheEvictions()
    {
        string set = Path.Combine(_registry, "swapped");
        Directory.CreateDirectory(set);
        File.Copy(ShippedModelApp.Adapter("fast"), Path.Combine(set, "slow.safetensors"));
        File.Copy(ShippedModelApp.Adapter("slow"), Path.Combine(set, "fast.safetensors"));
        await using var factory = ShippedModelApp.Over(_registry, ("Glance:Model:DType", "float32"), ("Glance:Adapters:MaxResidentMiB", "1"));
        using HttpClient client = factory.CreateClient();
        await Eventually.ReadyAsync(client, "glance-mini", TimeSpan.FromSeconds(90));

        Assert.Equal(new Dictionary<string, bool> { ["default"] = true, ["swapped"] = false }, await ResidentAsync(client));

        using var response = await client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), new { prompt = "a red circle", seed = 7, width = 32, height = 32, adapters = "swapped" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Assert.Equal(new Dictionary<string, bool> { ["default"] = false, ["swapped"] = true }, await ResidentAsync(client));
        Dictionary<string, long> series = [];
        // The exporter may answer from a scrape a few hundred milliseconds old.
        await Eventually.TrueAsync(async () => (series = await ScrapeAsync(client)).GetValueOrDefault("evictions_total") == 2,
            "both default adapters evicted on /metrics");
        Assert.Equal(2 * 491_520, series["resident_bytes"]);
    }
}
