namespace Glance.Api.Options;

internal static class OptionsRegistration
{
    /// <summary>Binds every Glance options section and validates it when the host starts.</summary>
    public static IServiceCollection AddGlanceOptions(this IServiceCollection services)
    {
        Bind<QueueOptions>(services, QueueOptions.Section);
        Bind<BatchingOptions>(services, BatchingOptions.Section);
        Bind<RequestOptions>(services, RequestOptions.Section);
        Bind<ShutdownOptions>(services, ShutdownOptions.Section);
        Bind<AuthOptions>(services, AuthOptions.Section);
        Bind<RateLimitOptions>(services, RateLimitOptions.Section);
        Bind<JobOptions>(services, JobOptions.Section);
        Bind<ModelOptions>(services, ModelOptions.Section);
        Bind<AdapterOptions>(services, AdapterOptions.Section);
        Bind<TrainingOptions>(services, TrainingOptions.Section);
        return services;
    }

    static void Bind<TOptions>(IServiceCollection services, string section)
        where TOptions : class =>
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
}
