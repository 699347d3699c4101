namespace Glance.Contracts;

/// <summary>What /healthz and /readyz report when all is well.</summary>
/// <param name="Status">"alive" or "ready".</param>
public sealed record ServiceStatus(string Status, string? Model = null, string? Device = null);
