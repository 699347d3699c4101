using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Glance.Api.Tests.Endpoints;
using Glance.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Glance.Api.Tests.RealEngine;

/// <summary>The real engine's prompt cache as /metrics reports it (alone: see <see cref="MetricsAlone"/>).</summary>
[Collection(MetricsAlone.Name)]
public sealed partial class PromptCacheMetricsTests(TinyModelFolder folder) : IClassFixture<TinyModelFolder>
{
    [GeneratedRegex(@"^glance_prompt_cache_(hits|misses)_total(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex CounterLine();

    static async Task<(long Hits, long Misses)?> ScrapeAsync(HttpClient client)
    {
        using HttpResponseMessage response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var counters = CounterLine().Matches(await response.Content.ReadAsStringAsync())
            .ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        return counters.TryGetValue("hits", out long hits) && counters.TryGetValue("misses", out long misses) ? (hits, misses) : null;
    }

    static async Task GenerateAsync(HttpClient client, long seed)
    {
        using var response = await client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), new { prompt = "a red circle", seed, width = 16, height = 16 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ARepeatedPromptIsCountedAsHitsOnMetrics()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
            builder.UseSetting("Glance:Model:Name", "tiny-test");
            builder.UseSetting("Glance:Model:Path", folder.Path);
            builder.UseSetting("Glance:Model:Device", "cpu");
            builder.UseSetting("Glance:RateLimit:Enabled", "false");
        });
        using HttpClient client = factory.CreateClient();
        await Eventually.ReadyAsync(client, "the real engine to become ready", TimeSpan.FromSeconds(60));

        await GenerateAsync(client, seed: 1);
        (long Hits, long Misses)? before = null;
        await Eventually.TrueAsync(async () => (before = await ScrapeAsync(client)) is not null, "the prompt cache counters on /metrics");

        await GenerateAsync(client, seed: 2);
        (long Hits, long Misses)? after = null;
        // The exporter may answer from a scrape a few hundred milliseconds old: scrape until the second request shows.
        await Eventually.TrueAsync(async () => (after = await ScrapeAsync(client))?.Hits > before!.Value.Hits, "a prompt cache hit on /metrics");

        // The prompt and its negative prompt ("": the tiny model runs true CFG) were both cached by the first request.
        Assert.Equal(before!.Value.Hits + 2, after!.Value.Hits);
        Assert.Equal(before.Value.Misses, after.Value.Misses);
    }
}
