namespace Glance.Api.Security;

internal static class SecuritySetup
{
    public static IServiceCollection AddGlanceSecurity(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyValidator>();
        services.AddGlanceRateLimiting();
        return services;
    }

    /// <summary>Body limit, then API keys, then rate limiting (which partitions by the key found).</summary>
    public static IApplicationBuilder UseGlanceSecurity(this IApplicationBuilder app)
    {
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRateLimiter();
        return app;
    }
}
