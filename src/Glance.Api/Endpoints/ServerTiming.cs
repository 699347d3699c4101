using System.Globalization;

namespace Glance.Api.Endpoints;

/// <summary>The Server-Timing header: one "name;dur=MILLISECONDS" entry per stage.</summary>
internal static class ServerTiming
{
    public const string HeaderName = "Server-Timing";

    public static string Format(IReadOnlyDictionary<string, double> timingsMs)
    {
        ArgumentNullException.ThrowIfNull(timingsMs);
        return string.Join(", ", timingsMs.Select(pair =>
            string.Create(CultureInfo.InvariantCulture, $"{pair.Key};dur={pair.Value:0.###}")));
    }
}
