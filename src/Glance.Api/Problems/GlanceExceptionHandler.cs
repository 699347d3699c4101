using Glance.Api.Telemetry;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Glance.Api.Problems;

/// <summary>Turns unreadable requests into 400/413/415 problems and anything else into a 500 problem.</summary>
internal sealed class GlanceExceptionHandler(IProblemDetailsService problems, ILogger<GlanceExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(exception);
        (ProblemKind kind, string detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (ProblemKind.PayloadTooLarge, "The request body is larger than the server accepts."),
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
                (ProblemKind.UnsupportedMediaType, exception.Message),
            BadHttpRequestException bad => (ProblemKind.MalformedRequest, Describe(bad)),
            // The form reader's limits (multipart body length, value count) and broken multipart bodies.
            InvalidDataException invalid => (ProblemKind.MalformedRequest, "The form could not be read: " + invalid.Message),
            _ => (ProblemKind.Internal, "The server hit an unexpected error; the request id identifies it in the logs."),
        };
        if (kind == ProblemKind.Internal) Log.UnhandledError(logger, httpContext.Request.Path, exception);
        httpContext.Response.StatusCode = kind.Status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Type = kind.Type, Title = kind.Title, Status = kind.Status, Detail = detail },
        }).ConfigureAwait(false);
    }

    // The JSON reader's own message says where the body went wrong; the binder's wrapper adds only the parameter name.
    static string Describe(BadHttpRequestException exception) =>
        exception.InnerException is System.Text.Json.JsonException json ? "The body is not valid JSON: " + json.Message : exception.Message;
}
