namespace Glance.Contracts;

/// <summary>The sampling modes a request may name.</summary>
public static class GenerationModes
{
    public const string Glance = "glance";
    public const string Base = "base";

    public static IReadOnlyList<string> All { get; } = [Glance, Base];
}
