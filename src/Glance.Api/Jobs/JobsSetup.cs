namespace Glance.Api.Jobs;

internal static class JobsSetup
{
    public static IServiceCollection AddGlanceJobs(this IServiceCollection services)
    {
        services.AddSingleton<IJobStore, InMemoryJobStore>();
        services.AddSingleton<JobRunner>();
        return services;
    }
}
