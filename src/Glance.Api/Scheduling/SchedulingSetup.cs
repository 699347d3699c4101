using Glance.Api.Endpoints;
using Glance.Api.Engine;
using Glance.Api.Options;
using Microsoft.Extensions.Options;

namespace Glance.Api.Scheduling;

internal static class SchedulingSetup
{
    /// <summary>The engine factory, the queue, the worker that owns the engine, and the endpoints' way in.</summary>
    public static IServiceCollection AddGlanceEngine(this IServiceCollection services)
    {
        services.AddSingleton<IEngineFactory, TorchEngineFactory>();
        services.AddSingleton<EngineAdapterResidency>();
        services.AddSingleton<ServerLifecycle>();
        services.AddSingleton<Adapters.AdapterRegistry>();
        services.AddSingleton<EngineCommands>();
        services.AddSingleton<Adapters.AdapterUploads>();
        services.AddSingleton<Training.TrainingQueue>();
        services.AddSingleton<Training.TrainingSlot>();
        services.AddSingleton<Training.TrainingJobRunner>();
        services.AddSingleton(provider => new RequestQueue(provider.GetRequiredService<IOptions<QueueOptions>>().Value.Capacity));
        services.AddSingleton<GenerationScheduler>();
        services.AddSingleton<ImageGeneration>();
        services.AddHostedService<EngineWorker>();
        services.AddSingleton(TimeProvider.System);
        // The host must wait out the worker's grace period (plus a margin for the last step) before giving up on it.
        services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = shutdown.Value.Grace + TimeSpan.FromSeconds(30));
        return services;
    }
}
