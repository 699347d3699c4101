using Glance.Api.Endpoints;
using Glance.Api.Jobs;
using Glance.Api.OpenApi;
using Glance.Api.Options;
using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Api.Security;
using Glance.Api.Telemetry;

var builder = WebApplication.CreateBuilder(args);
builder.AddGlanceLogging();
builder.Services
    .AddGlanceOptions()
    .AddGlanceProblemDetails()
    .AddGlanceEngine()
    .AddGlanceJobs()
    .AddGlanceSecurity()
    .AddGlanceTelemetry()
    .AddGlanceOpenApi()
    .AddGlanceModelCatalog();

var app = builder.Build();
app.UseGlanceProblemDetails();
app.UseGlanceRequestLogging();
app.UseGlanceSecurity();
app.UseGlanceOpenApi();

app.MapPlayground();
app.MapHealthEndpoints();
app.MapMetricsEndpoint();
app.MapGenerateEndpoints();
app.MapOpenAiImagesEndpoints();
app.MapJobEndpoints();
app.MapAdapterEndpoints();
app.MapAdapterTrainingEndpoints();
app.MapModelEndpoints();

app.Run();

/// <summary>The entry point, public so that tests can host the app (WebApplicationFactory&lt;Program&gt;).</summary>
public partial class Program;
