using Glance.Api.Tests.Infrastructure;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Memory;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static Glance.Engine.Tests.Memory.FakeMachineFiles;

namespace Glance.Api.Tests.RealEngine;

/// <summary>
/// The start-up memory check in the service: a (tiny) FLUX.1 snapshot in a pod whose cgroup limit leaves too little
/// keeps /readyz at 503 with the reason; Glance:Model:CheckMemory=false loads it anyway.
/// </summary>
public sealed class MemoryCheckEndpointTests(TinyFluxSnapshot snapshot) : IClassFixture<TinyFluxSnapshot>, IDisposable
{
    /// <summary>64 GiB free on the machine, but the container's cgroup v2 limit (512 MiB, 100 MiB charged) leaves 412 MiB: less than the 1 GiB loading margin alone.</summary>
    readonly FakeMachineFiles _pod = new FakeMachineFiles().MemAvailable(64 * GiB).SelfCgroup("0::/\n").V2("", max: 512L << 20, current: 100L << 20);

    public void Dispose() => _pod.Dispose();

    WebApplicationFactory<Program> Service(bool? checkMemory = null) => new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
    {
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.UseSetting("Glance:Model:Name", "flux-test");
        builder.UseSetting("Glance:Model:Path", snapshot.Path);
        builder.UseSetting("Glance:Model:Device", "cpu");
        builder.UseSetting("Glance:RateLimit:Enabled", "false");
        if (checkMemory is { } check) builder.UseSetting("Glance:Model:CheckMemory", check ? "true" : "false");
        builder.ConfigureTestServices(services => services.AddSingleton<IMemoryAvailability>(_pod.Memory));
    });

    [Fact]
    public async Task AModelOverThePodsMemoryLimitKeepsReadyzAt503NamingTheLimitAndWhatToDo()
    {
        await using var factory = Service();
        using var client = factory.CreateClient();

        string reason = await Eventually.FaultedAsync(client, TimeSpan.FromSeconds(60));

        foreach (string part in new[]
        {
            snapshot.Path, "transformer", "t5", "does NOT fit", "only 412.0 MiB is available", Path.Combine(_pod.CgroupRoot, "memory.max"),
            "raise the container's memory limit", "Glance:Model:CheckMemory=false",
        })
        {
            Assert.Contains(part, reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WithCheckMemoryFalseTheSameModelLoadsAndBecomesReady()
    {
        await using var factory = Service(checkMemory: false);
        using var client = factory.CreateClient();

        await Eventually.ReadyAsync(client, "the FLUX.1 snapshot engine to become ready without the memory check", TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task ACheckMemoryValueThatIsNotABooleanStopsTheServerNamingTheKey()
    {
        await using var app = new GlanceApp(settings: new Dictionary<string, string?> { ["Glance:Model:CheckMemory"] = "maybe" });

        var error = Assert.Throws<InvalidOperationException>(() => app.CreateClient());

        Assert.Contains("'maybe' at 'Glance:Model:CheckMemory'", error.Message, StringComparison.Ordinal);
    }
}
