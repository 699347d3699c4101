using Microsoft.OpenApi;

namespace Glance.Api.OpenApi;

internal static class OpenApiSetup
{
    public static IServiceCollection AddGlanceOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Glance Server",
                Version = "v1",
                Description = "Text-to-image generation with phase-aware (Slow/Fast adapter) sampling. " +
                    "Every error is an RFC 9457 problem with a stable type under https://glance.dev/problems/.",
            });
            options.SchemaFilter<ExampleSchemaFilter>();
            options.OperationFilter<PngAlternativeFilter>();
            options.AddSecurityDefinition("ApiKey", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Api-Key",
                Description = "Needed only when the server is configured with API keys.",
            });
            options.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference("ApiKey", document)] = [],
            });
        });
        return services;
    }

    /// <summary>The OpenAPI document at /swagger/v1/swagger.json and Swagger UI at /swagger.</summary>
    public static IApplicationBuilder UseGlanceOpenApi(this IApplicationBuilder app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options => options.DocumentTitle = "Glance Server API");
        return app;
    }
}
