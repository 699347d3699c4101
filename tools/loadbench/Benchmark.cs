using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Glance.Contracts.Generation;

namespace Glance.LoadBench;

/// <param name="AdapterSets">Sets the requests name in turn (by seed); empty: no 'adapters' field (the default set).</param>
internal sealed record BenchmarkSettings(Uri Url, string Prompt, string Mode, int? Width, int? Height, string? ApiKey, IReadOnlyList<string> AdapterSets);

/// <summary>Closed-loop load: each of N workers sends its next request as soon as its last one answers.</summary>
internal sealed class Benchmark : IDisposable
{
    readonly BenchmarkSettings settings;
    readonly HttpClient client;
    long nextSeed;

    public Benchmark(BenchmarkSettings settings)
    {
        this.settings = settings;
        client = new HttpClient { BaseAddress = settings.Url, Timeout = TimeSpan.FromMinutes(30) };
        if (settings.ApiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", settings.ApiKey);
    }

    public async Task WarmUpAsync(int count, CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++) await SendAsync(cancellationToken);
    }

    /// <summary>Runs one level until <paramref name="total"/> requests were sent or, when given, until <paramref name="duration"/> has passed.</summary>
    public async Task<LevelResult> RunLevelAsync(int concurrency, int total, TimeSpan? duration, CancellationToken cancellationToken)
    {
        BatchSizeTotals before = await BatchSizeTotals.ScrapeAsync(client, cancellationToken);
        var samples = new List<Sample>();
        int issued = 0;
        var clock = Stopwatch.StartNew();
        bool More() => duration is { } limit ? clock.Elapsed < limit : Interlocked.Increment(ref issued) <= total;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (More())
            {
                Sample sample = await SendAsync(cancellationToken);
                lock (samples) samples.Add(sample);
            }
        }));
        TimeSpan elapsed = clock.Elapsed;
        BatchSizeTotals after = await BatchSizeTotals.ScrapeAsync(client, cancellationToken);
        return LevelResult.From(concurrency, samples, elapsed, after - before);
    }

    async Task<Sample> SendAsync(CancellationToken cancellationToken)
    {
        long seed = Interlocked.Increment(ref nextSeed);
        string? adapters = settings.AdapterSets.Count == 0 ? null : settings.AdapterSets[(int)(seed % settings.AdapterSets.Count)];
        var request = new GenerateRequest(
            settings.Prompt, Width: settings.Width, Height: settings.Height, Seed: seed, Mode: settings.Mode, Adapters: adapters);
        long start = Stopwatch.GetTimestamp();
        using HttpResponseMessage response = await client.PostAsJsonAsync("/generate", request, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        TimeSpan latency = Stopwatch.GetElapsedTime(start);
        IReadOnlyDictionary<string, double> stages = response.Headers.TryGetValues("Server-Timing", out IEnumerable<string>? values)
            ? ParseServerTiming(string.Join(",", values))
            : new Dictionary<string, double>();
        return new Sample((int)response.StatusCode, latency, stages);
    }

    static Dictionary<string, double> ParseServerTiming(string header) =>
        header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split(";dur="))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));

    public void Dispose() => client.Dispose();
}

/// <summary>One request: HTTP status, client-side latency, and the server's per-stage milliseconds.</summary>
internal sealed record Sample(int Status, TimeSpan Latency, IReadOnlyDictionary<string, double> Stages);
