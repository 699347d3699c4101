using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Serilog;
using Serilog.Context;

namespace Glance.Api.Telemetry;

internal static class TelemetrySetup
{
    /// <summary>
    /// Serilog to the console (levels from the "Serilog" section), with each request's id on its events. Each host keeps
    /// its own logger instead of replacing the process-wide static one, so that hosts side by side in one process (tests)
    /// neither swap each other's sinks nor log through a disposed one.
    /// </summary>
    public static WebApplicationBuilder AddGlanceLogging(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .WriteTo.Console(
                outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext} {RequestId}: {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture),
            preserveStaticLogger: true);
        return builder;
    }

    /// <summary>Metrics (Prometheus at /metrics) and traces for the server's meter and activity source plus ASP.NET Core.</summary>
    public static IServiceCollection AddGlanceTelemetry(this IServiceCollection services)
    {
        services.AddSingleton<ServerMetrics>();
        services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(ServerMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(RequestTracing.SourceName)
                .AddAspNetCoreInstrumentation());
        return services;
    }

    /// <summary>Tags each request's log events with its id, echoes the id to the client, and logs one line per request.</summary>
    public static IApplicationBuilder UseGlanceRequestLogging(this IApplicationBuilder app)
    {
        app.Use(async (context, next) =>
        {
            context.Response.Headers["X-Request-Id"] = context.TraceIdentifier;
            using (LogContext.PushProperty("RequestId", context.TraceIdentifier))
                await next(context).ConfigureAwait(false);
        });
        // The host's own logger: the middleware would otherwise write through the static one, which this host leaves alone.
        Serilog.ILogger hostLogger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
        app.UseSerilogRequestLogging(options => options.Logger = hostLogger);
        return app;
    }

    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
