using Glance.Engine.Pipeline;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Glance.Api.Tests.RealEngine;

/// <summary>
/// The server as the adapter-set tests start it: the shipped glance-mini on the CPU, sets from a registry folder, no
/// rate limits, warnings only in the log; each test adds its own settings.
/// </summary>
internal static class ShippedModelApp
{
    public static WebApplicationFactory<Program> Over(string registry, params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
            builder.UseSetting("Glance:Model:Device", "cpu");
            builder.UseSetting("Glance:Adapters:Path", registry);
            builder.UseSetting("Glance:RateLimit:Enabled", "false");
            foreach (var (key, value) in settings) builder.UseSetting(key, value);
        });

    /// <summary>The shipped Slow or Fast adapter file ("slow", "fast").</summary>
    public static string Adapter(string phase) =>
        Path.Combine(ModelLocator.Resolve(ModelLocator.DefaultModel), GlanceModel.AdaptersFolder, phase + ".safetensors");
}
