namespace Glance.Api.Endpoints;

/// <summary>GET /: a one-page playground (prompt, mode, seed; the image and a bar of per-stage times).</summary>
internal static class PlaygroundEndpoints
{
    static readonly Lazy<string> Page = new(() =>
    {
        using Stream stream = typeof(PlaygroundEndpoints).Assembly.GetManifestResourceStream("Glance.Api.Playground.index.html")
            ?? throw new InvalidOperationException("The playground page is missing from the assembly's resources (Glance.Api.Playground.index.html).");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static IEndpointRouteBuilder MapPlayground(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => TypedResults.Content(Page.Value, "text/html; charset=utf-8"))
            .ExcludeFromDescription();
        return app;
    }
}
