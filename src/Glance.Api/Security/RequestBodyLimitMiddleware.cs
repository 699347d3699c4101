using Glance.Api.Options;
using Glance.Api.Problems;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Glance.Api.Security;

/// <summary>
/// Refuses bodies over <see cref="RequestOptions.MaxBodyBytes"/> (adapter uploads: two files of
/// <see cref="AdapterOptions.MaxFileMiB"/>; training requests: one image of <see cref="TrainingOptions.MaxImageMiB"/>) with 413: at once when Content-Length says so, otherwise the server stops
/// reading at the limit (and the exception handler answers 413).
/// </summary>
internal sealed class RequestBodyLimitMiddleware(
    RequestDelegate next, IOptions<RequestOptions> options, IOptions<AdapterOptions> adapters, IOptions<TrainingOptions> training,
    IProblemDetailsService problems)
{
    readonly long requestLimit = options.Value.MaxBodyBytes;
    readonly long uploadLimit = 2 * adapters.Value.MaxFileBytes + (1L << 20);
    readonly long trainingLimit = training.Value.MaxImageBytes + (1L << 20);

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        bool adapters = context.Request.Path.StartsWithSegments("/v1/adapters", StringComparison.OrdinalIgnoreCase);
        bool upload = adapters && HttpMethods.IsPut(context.Request.Method);
        bool train = adapters && HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Value!.EndsWith("/train", StringComparison.OrdinalIgnoreCase);
        long limit = upload ? uploadLimit : train ? trainingLimit : requestLimit;
        if (context.Request.ContentLength > limit)
        {
            ProblemKind kind = ProblemKind.PayloadTooLarge;
            context.Response.StatusCode = kind.Status;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Type = kind.Type,
                    Title = kind.Title,
                    Status = kind.Status,
                    Detail = $"The body has {context.Request.ContentLength} bytes; at most {limit} are accepted.",
                },
            }).ConfigureAwait(false);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            bodySize.MaxRequestBodySize = limit;
        await next(context).ConfigureAwait(false);
    }
}
