using System.Globalization;
using System.Threading.RateLimiting;
using Glance.Api.Options;
using Glance.Api.Problems;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Glance.Api.Security;

/// <summary>A fixed-window limit per API key, or per client address when no key is in use.</summary>
internal static class RateLimiting
{
    public const string PerClientPolicy = "per-client";

    public static IServiceCollection AddGlanceRateLimiting(this IServiceCollection services)
    {
        // The policy reads the bound Glance options, so it is configured through the options system, not inline.
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, configured) =>
        {
            RateLimitOptions limits = configured.Value;
            limiter.RejectionStatusCode = ProblemKind.RateLimited.Status;
            limiter.OnRejected = Reject;
            limiter.AddPolicy(PerClientPolicy, context => limits.Enabled
                ? RateLimitPartition.GetFixedWindowLimiter(ClientPartition(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.PermitLimit,
                    Window = limits.Window,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter(string.Empty));
        });
        return services;
    }

    static string ClientPartition(HttpContext context) =>
        ApiKeyMiddleware.KeyIndex(context) is int key
            ? "key:" + key.ToString(CultureInfo.InvariantCulture)
            : "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    static async ValueTask Reject(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        HttpContext context = rejected.HttpContext;
        ProblemKind kind = ProblemKind.RateLimited;
        string detail = "This client has used its requests for the current window.";
        if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter))
        {
            int seconds = (int)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            detail += $" Retry after {seconds} s.";
        }
        IProblemDetailsService problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Type = kind.Type, Title = kind.Title, Status = kind.Status, Detail = detail },
        }).ConfigureAwait(false);
    }
}
