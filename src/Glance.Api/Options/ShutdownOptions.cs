using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>How long a stopping server keeps working on accepted requests before cancelling them.</summary>
internal sealed class ShutdownOptions
{
    public const string Section = "Glance:Shutdown";

    [Range(0, 3600)]
    public double GraceSeconds { get; set; } = 30;

    public TimeSpan Grace => TimeSpan.FromSeconds(GraceSeconds);
}
