using System.Text.Json.Nodes;
using Glance.Contracts.Generation;
using Glance.Contracts.OpenAi;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Glance.Api.OpenApi;

/// <summary>Example bodies for the request schemas, shown and pre-filled by Swagger UI.</summary>
internal sealed class ExampleSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (schema is not OpenApiSchema concrete) return;
        if (context.Type == typeof(GenerateRequest))
        {
            concrete.Example = new JsonObject
            {
                ["prompt"] = "a lighthouse on a cliff at dawn, oil painting",
                ["negativePrompt"] = "blurry",
                ["width"] = 1024,
                ["height"] = 1024,
                ["seed"] = 42,
                ["mode"] = "glance",
                ["guidance"] = 3.5,
            };
        }
        else if (context.Type == typeof(ImageGenerationRequest))
        {
            concrete.Example = new JsonObject
            {
                ["prompt"] = "a red fox in fresh snow",
                ["n"] = 2,
                ["size"] = "1024x1024",
                ["response_format"] = "b64_json",
                ["seed"] = 7,
            };
        }
    }
}
