using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>The bounded queue where requests wait for the engine.</summary>
internal sealed class QueueOptions
{
    public const string Section = "Glance:Queue";

    /// <summary>Requests that may wait at once; one more is refused with 429.</summary>
    [Range(1, 100_000)]
    public int Capacity { get; set; } = 64;

    /// <summary>Retry-After sent with a queue-full refusal before any request has completed to estimate from.</summary>
    [Range(1, 3600)]
    public int DefaultRetryAfterSeconds { get; set; } = 5;
}
