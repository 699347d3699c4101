using System.Globalization;

namespace Glance.LoadBench;

/// <summary>What one concurrency level measured, as a Markdown table row.</summary>
internal sealed record LevelResult(
    int Concurrency,
    int Requests,
    int Errors,
    double ImagesPerSecond,
    TimeSpan P50,
    TimeSpan P95,
    TimeSpan P99,
    double MeanBatchSize,
    TimeSpan ServerP50,
    TimeSpan ServerP95,
    IReadOnlyDictionary<string, double> MeanStageMs,
    IReadOnlyList<TimeSpan> Latencies)
{
    public const string TableHeader =
        "| concurrency | requests | errors | images/s | p50 ms | p95 ms | p99 ms | server p50 ms | server p95 ms | mean batch | mean stage ms (Server-Timing) |\n" +
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|";

    public static LevelResult From(int concurrency, IReadOnlyList<Sample> samples, TimeSpan elapsed, BatchSizeTotals batches)
    {
        List<Sample> succeeded = [.. samples.Where(s => s.Status == 200)];
        List<TimeSpan> latencies = [.. succeeded.Select(s => s.Latency).Order()];
        // The server's own share of each request, queue to PNG: its "total" entry (else the sum of the stages).
        List<TimeSpan> serverTimes = [.. succeeded
            .Select(s => TimeSpan.FromMilliseconds(s.Stages.TryGetValue("total", out double total) ? total : s.Stages.Values.Sum()))
            .Order()];
        Dictionary<string, double> stages = succeeded
            .SelectMany(s => s.Stages)
            .GroupBy(pair => pair.Key, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Average(pair => pair.Value), StringComparer.Ordinal);
        return new LevelResult(
            concurrency,
            samples.Count,
            samples.Count - succeeded.Count,
            succeeded.Count / elapsed.TotalSeconds,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.95),
            Percentile(latencies, 0.99),
            batches.Mean,
            Percentile(serverTimes, 0.50),
            Percentile(serverTimes, 0.95),
            stages,
            latencies);
    }

    public Task AppendLatenciesAsync(FileInfo file, CancellationToken cancellationToken) =>
        File.AppendAllLinesAsync(
            file.FullName,
            Latencies.Select(latency => latency.TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture)),
            cancellationToken);

    // Nearest-rank percentile over sorted values.
    static TimeSpan Percentile(List<TimeSpan> sorted, double quantile) =>
        sorted.Count == 0 ? TimeSpan.Zero : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Count) - 1, 0, sorted.Count - 1)];

    public string TableRow()
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        string stages = string.Join(", ", MeanStageMs.Select(pair => string.Create(c, $"{pair.Key} {pair.Value:0.0}")));
        return string.Create(c,
            $"| {Concurrency} | {Requests} | {Errors} | {ImagesPerSecond:0.00} | {P50.TotalMilliseconds:0} | {P95.TotalMilliseconds:0} | " +
            $"{P99.TotalMilliseconds:0} | {ServerP50.TotalMilliseconds:0} | {ServerP95.TotalMilliseconds:0} | {MeanBatchSize:0.00} | {stages} |");
    }
}
