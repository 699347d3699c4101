using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>Limits applied to each HTTP request.</summary>
internal sealed class RequestOptions
{
    public const string Section = "Glance:Requests";

    /// <summary>Time from arrival to finished image after which a request is cancelled (queue time included).</summary>
    [Range(0.01, 86_400)]
    public double TimeoutSeconds { get; set; } = 300;

    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    [Range(256, 16 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Largest n accepted by the OpenAI-compatible endpoint.</summary>
    [Range(1, 64)]
    public int MaxImagesPerRequest { get; set; } = 4;

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);
}
