namespace Glance.Api.Telemetry;

/// <summary>The model catalog's log events (ids 160-169).</summary>
internal static partial class Log
{
    [LoggerMessage(160, LogLevel.Information, "A request named model {Requested}; this server serves {Available}")]
    public static partial void UnknownModel(ILogger logger, string requested, string available);
}
