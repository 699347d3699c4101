using System.Net;
using System.Net.Http.Json;
using Glance.Api.Engine;
using Glance.Api.Tests.Fakes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace Glance.Api.Tests.Infrastructure;

/// <summary>The API hosted in memory over a <see cref="FakeEngine"/>, with test settings layered over the defaults.</summary>
public sealed class GlanceApp : IAsyncDisposable
{
    static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Serilog:MinimumLevel:Default"] = "Warning",
        ["Glance:Shutdown:GraceSeconds"] = "2",
        ["Glance:RateLimit:Enabled"] = "false",
        ["Glance:Requests:TimeoutSeconds"] = "20",
    };

    readonly WebApplicationFactory<Program> factory;

    /// <param name="time">The clock for request time limits and job timestamps; the system's when null.</param>
    internal GlanceApp(
        FakeEngine? engine = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        IEngineFactory? engineFactory = null,
        TimeProvider? time = null)
    {
        Engine = engine ?? new FakeEngine();
        var merged = new Dictionary<string, string?>(Defaults);
        foreach ((string key, string? value) in settings ?? new Dictionary<string, string?>()) merged[key] = value;
        var fakeFactory = new FakeEngineFactory(Engine);
        EngineFactory = fakeFactory;
        var baseFactory = new WebApplicationFactory<Program>();
        factory = baseFactory.WithWebHostBuilder(builder =>
        {
            foreach ((string key, string? value) in merged) builder.UseSetting(key, value);
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton(engineFactory ?? fakeFactory);
                services.AddSingleton<ILogEventSink>(Logs);
                if (time is not null) services.AddSingleton(time);
            });
        });
    }

    public FakeEngine Engine { get; }

    /// <summary>What the app logged at the configured level (warnings and above by default).</summary>
    public LogCapture Logs { get; } = new();

    internal FakeEngineFactory EngineFactory { get; }
    public IServiceProvider Services => factory.Services;

    public HttpClient CreateClient() => factory.CreateClient();

    /// <summary>Starts a real Kestrel server on a free loopback port (browser tests) and returns its address.</summary>
    public Uri StartKestrel()
    {
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        string address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Uri(address);
    }

    /// <summary>A client for an app whose engine is loaded and warmed up.</summary>
    public async Task<HttpClient> ReadyClientAsync()
    {
        HttpClient client = CreateClient();
        await Eventually.ReadyAsync(client, "the app to become ready");
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Engine.OpenGate();
        await factory.DisposeAsync();
    }

    public static JsonContent Json<T>(T body) => JsonContent.Create(body);
}
