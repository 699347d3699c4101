using System.Net;
using System.Text.Json;

namespace Glance.Api.Tests.Infrastructure;

/// <summary>Reads a response that must be a ProblemDetails and checks its status and stable type.</summary>
public static class ProblemAssert
{
    public const string TypeBase = "https://glance.dev/problems/";

    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status, string slug)
    {
        ArgumentNullException.ThrowIfNull(response);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(TypeBase + slug, problem.GetProperty("type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
