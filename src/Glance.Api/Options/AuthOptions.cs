namespace Glance.Api.Options;

/// <summary>Optional API keys. With none configured every request is let through.</summary>
internal sealed class AuthOptions
{
    public const string Section = "Glance:Auth";

    static readonly string[] DefaultExemptPaths = ["/", "/healthz", "/readyz", "/metrics", "/swagger"];

    /// <summary>Accepted keys, sent as "Authorization: Bearer KEY" or "X-Api-Key: KEY".</summary>
    public IList<string> ApiKeys { get; } = [];

    /// <summary>
    /// Keys that may also change the service's adapter sets (upload, delete, train); they are accepted everywhere an API
    /// key is. With keys configured, writes with any other key answer 403.
    /// </summary>
    public IList<string> AdminKeys { get; } = [];

    /// <summary>
    /// Paths served without a key; each also exempts the paths below it, except "/" which exempts only itself.
    /// Null (not configured) takes the playground, health, metrics and Swagger paths.
    /// </summary>
    public IList<string>? ExemptPaths { get; set; }

    public IReadOnlyList<string> EffectiveExemptPaths => ExemptPaths is null ? DefaultExemptPaths : [.. ExemptPaths];
}
