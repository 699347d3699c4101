namespace Glance.Engine.Serving;

/// <summary>One denoising step of a request's plan: evaluate at <see cref="Sigma"/>, move to <see cref="NextSigma"/>.</summary>
/// <param name="Phase">Phase name ("slow", "fast", or "base").</param>
/// <param name="Adapter">Adapter active in this step, or null for the base weights.</param>
public sealed record PlannedStep(string Phase, string? Adapter, double Sigma, double NextSigma);
