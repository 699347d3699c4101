using System.Text.Json;
using Glance.Contracts.Jobs;

namespace Glance.Api.Tests.Infrastructure;

/// <summary>Reads a job's server-sent event stream as (event name, data) pairs.</summary>
public static class JobEvents
{
    static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static List<(string Event, JobEvent Data)> Parse(string stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return [.. stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            string[] lines = block.Split('\n');
            string name = lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            string data = lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
            return (name, JsonSerializer.Deserialize<JobEvent>(data, Options)!);
        })];
    }
}
