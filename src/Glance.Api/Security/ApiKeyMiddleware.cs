using Glance.Api.Options;
using Glance.Api.Problems;
using Glance.Api.Telemetry;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Glance.Api.Security;

/// <summary>
/// Requires an API key ("Authorization: Bearer KEY" or "X-Api-Key: KEY") when keys are configured, except on
/// the exempt paths. The matched key's index becomes the client's rate-limit partition.
/// </summary>
internal sealed class ApiKeyMiddleware(
    RequestDelegate next,
    ApiKeyValidator validator,
    IOptions<AuthOptions> options,
    IProblemDetailsService problems,
    ILogger<ApiKeyMiddleware> logger)
{
    public const string ApiKeyHeader = "X-Api-Key";
    const string ClientKeyItem = "Glance.ApiKeyIndex";

    readonly IReadOnlyList<string> exemptPaths = options.Value.EffectiveExemptPaths;

    /// <summary>The index of the key the request presented, or null when none was required.</summary>
    public static int? KeyIndex(HttpContext context) =>
        context?.Items.TryGetValue(ClientKeyItem, out object? index) == true ? (int?)index : null;

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!validator.IsEnabled || IsExempt(context.Request.Path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        string? presented = PresentedKey(context.Request);
        int index = presented is null ? -1 : validator.Match(presented);
        if (index < 0)
        {
            if (presented is not null) Log.InvalidApiKey(logger, context.Connection.RemoteIpAddress?.ToString());
            await Reject(context, presented is null
                ? "Send an API key as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'."
                : "The API key is not valid.").ConfigureAwait(false);
            return;
        }
        context.Items[ClientKeyItem] = index;
        await next(context).ConfigureAwait(false);
    }

    bool IsExempt(PathString path) => exemptPaths.Any(exempt => exempt == "/"
        ? path.Value is "/" or "" or null
        : path.StartsWithSegments(exempt, StringComparison.OrdinalIgnoreCase));

    /// <summary>The key a request presented, if any.</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        string? header = request.Headers[ApiKeyHeader];
        if (!string.IsNullOrEmpty(header)) return header;
        string? authorization = request.Headers.Authorization;
        const string bearer = "Bearer ";
        if (authorization is not null && authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
            return authorization[bearer.Length..].Trim();
        return null;
    }

    async Task Reject(HttpContext context, string detail)
    {
        ProblemKind kind = ProblemKind.Unauthorized;
        context.Response.StatusCode = kind.Status;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Type = kind.Type, Title = kind.Title, Status = kind.Status, Detail = detail },
        }).ConfigureAwait(false);
    }
}
