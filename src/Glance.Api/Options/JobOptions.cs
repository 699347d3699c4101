using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>How long asynchronous jobs and their images are kept after their last change.</summary>
internal sealed class JobOptions
{
    public const string Section = "Glance:Jobs";

    [Range(1, 7 * 86_400)]
    public double TtlSeconds { get; set; } = 3600;

    public TimeSpan Ttl => TimeSpan.FromSeconds(TtlSeconds);
}
