using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Glance.Api.OpenApi;

/// <summary>Marks an endpoint whose 200 response is a PNG unless the client asks for JSON.</summary>
internal sealed record PngAlternative;

/// <summary>
/// Adds "image/png" (binary) beside the JSON body of 200 responses of endpoints marked <see cref="PngAlternative"/>;
/// the API explorer keeps only one response type per status code.
/// </summary>
internal sealed class PngAlternativeFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<PngAlternative>().Any()) return;
        if (operation.Responses?.TryGetValue("200", out IOpenApiResponse? ok) != true || ok is not OpenApiResponse response) return;
        response.Content ??= new Dictionary<string, OpenApiMediaType>();
        response.Content["image/png"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
    }
}
