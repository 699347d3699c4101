using System.Globalization;

namespace Glance.LoadBench;

/// <summary>The server's glance_batch_size histogram totals, read from its Prometheus text at /metrics.</summary>
internal readonly record struct BatchSizeTotals(double Sum, double Count)
{
    public double Mean => Count > 0 ? Sum / Count : double.NaN;

    public static BatchSizeTotals operator -(BatchSizeTotals after, BatchSizeTotals before) =>
        new(after.Sum - before.Sum, after.Count - before.Count);

    public static async Task<BatchSizeTotals> ScrapeAsync(HttpClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        string text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken);
        return new BatchSizeTotals(Total(text, "glance_batch_size_sum"), Total(text, "glance_batch_size_count"));
    }

    // Sums the metric over all its label sets: lines "NAME{labels} VALUE" or "NAME VALUE".
    static double Total(string text, string metric) => text
        .Split('\n')
        .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal) || line.StartsWith(metric + " ", StringComparison.Ordinal))
        .Select(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
        .Sum();
}
