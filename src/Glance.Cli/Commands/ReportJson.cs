using System.Text.Json;

namespace Glance.Cli.Commands;

/// <summary>How commands write their JSON reports: indented, camelCase.</summary>
internal static class ReportJson
{
    public static JsonSerializerOptions Options { get; } = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
