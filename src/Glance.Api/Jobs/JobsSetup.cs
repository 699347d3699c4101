using Glance.Api.Options;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Glance.Api.Jobs;

internal static class JobsSetup
{
    /// <summary>
    /// The job runner and, by <see cref="JobOptions.Redis"/>, either the in-process job store or the Redis one that
    /// replicas share (with cancel requests carried between replicas).
    /// </summary>
    public static IServiceCollection AddGlanceJobs(this IServiceCollection services)
    {
        // Connected on first use, only when Redis is configured. Without aborting on a failed first connect,
        // a replica that starts before Redis keeps retrying in the background instead of crashing.
        services.AddSingleton<IConnectionMultiplexer>(provider =>
        {
            JobOptions jobs = provider.GetRequiredService<IOptions<JobOptions>>().Value;
            ConfigurationOptions redis = ConfigurationOptions.Parse(jobs.Redis!);
            redis.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(redis);
        });
        services.AddSingleton<IJobStore>(provider => UsesRedis(provider)
            ? ActivatorUtilities.CreateInstance<RedisJobStore>(provider)
            : ActivatorUtilities.CreateInstance<InMemoryJobStore>(provider));
        services.AddSingleton<IJobCancellation>(provider => UsesRedis(provider)
            ? ActivatorUtilities.CreateInstance<RedisJobCancellation>(provider)
            : new LocalJobCancellation());
        services.AddSingleton<JobRunner>();
        services.AddHostedService<JobCancellationListener>();
        return services;
    }

    static bool UsesRedis(IServiceProvider provider) => provider.GetRequiredService<IOptions<JobOptions>>().Value.UsesRedis;
}
