namespace Glance.Contracts;

/// <summary>What /healthz and /readyz report when all is well.</summary>
/// <param name="Status">"alive" or "ready".</param>
/// <param name="Note">How the engine runs when it lacks something (e.g. Glance mode without its adapters).</param>
public sealed record ServiceStatus(string Status, string? Model = null, string? Device = null, string? Note = null);
