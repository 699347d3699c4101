using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>Fixed-window rate limit per API key, or per client address without a key.</summary>
internal sealed class RateLimitOptions
{
    public const string Section = "Glance:RateLimit";

    public bool Enabled { get; set; } = true;

    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 120;

    [Range(0.001, 86_400)]
    public double WindowSeconds { get; set; } = 60;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}
