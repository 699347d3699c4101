using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>How long asynchronous jobs and their images are kept after their last change, and where.</summary>
internal sealed class JobOptions
{
    public const string Section = "Glance:Jobs";

    [Range(1, 7 * 86_400)]
    public double TtlSeconds { get; set; } = 3600;

    /// <summary>
    /// A StackExchange.Redis connection string (e.g. "redis:6379,password=..."). When set, jobs, their events and
    /// images live in Redis, so every replica serves and cancels any job; when unset, they live in this process.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>Prefix of every Redis key and channel, so that several deployments can share one Redis.</summary>
    [Required(AllowEmptyStrings = false)]
    public string RedisKeyPrefix { get; set; } = "glance:";

    public TimeSpan Ttl => TimeSpan.FromSeconds(TtlSeconds);

    public bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);
}
