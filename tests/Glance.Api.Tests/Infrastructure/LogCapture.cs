using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace Glance.Api.Tests.Infrastructure;

/// <summary>
/// A Serilog sink (the app reads sinks from its services) that keeps the events the app logs at the configured level,
/// so that a test can wait for the server to have reached a logged point instead of waiting for time to pass.
/// </summary>
public sealed class LogCapture : ILogEventSink
{
    readonly ConcurrentQueue<LogEvent> events = new();

    public void Emit(LogEvent logEvent) => events.Enqueue(logEvent);

    /// <summary>Whether an event with this <see cref="Microsoft.Extensions.Logging.EventId"/> name (the logging method's name) was logged.</summary>
    public bool Has(string eventName) => events.Any(e => EventName(e) == eventName);

    static string? EventName(LogEvent logEvent) =>
        logEvent.Properties.TryGetValue("EventId", out LogEventPropertyValue? id) && id is StructureValue structure
            ? structure.Properties.FirstOrDefault(p => p.Name == "Name")?.Value is ScalarValue { Value: string name } ? name : null
            : null;
}
