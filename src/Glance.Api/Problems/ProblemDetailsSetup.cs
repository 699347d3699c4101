using Microsoft.AspNetCore.Diagnostics;

namespace Glance.Api.Problems;

internal static class ProblemDetailsSetup
{
    /// <summary>Every error a ProblemDetails with a stable type, a request id and a trace id.</summary>
    public static IServiceCollection AddGlanceProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            int status = problem.Status ?? context.HttpContext.Response.StatusCode;
            if (problem.Type is null || !problem.Type.StartsWith(ProblemKind.TypeBase, StringComparison.Ordinal))
            {
                ProblemKind kind = ProblemKind.ForStatus(status);
                problem.Type = kind.Type;
                problem.Title = kind.Title;
            }
            problem.Extensions["requestId"] = context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<GlanceExceptionHandler>();
        // Malformed bodies throw (instead of a bare 400) so the handler can say what was wrong.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    public static IApplicationBuilder UseGlanceProblemDetails(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
